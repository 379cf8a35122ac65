// SIMT emulator: the CUDA dialect for g++, so that the very same kernels/cuda/*.cu
// sources nvcc builds for the GPU also compile as C++ and run on the CPU in
// `make test`. Test infrastructure, not product: the real build never sees it.
//
// What it provides
//   - __global__/__device__/__host__ (empty), __shared__ (block-shared statics,
//     poisoned at every block start), SIMT_DYNAMIC_SHARED (guard-paged).
//   - threadIdx/blockIdx/blockDim/gridDim/warpSize, __syncthreads, __syncwarp,
//     __shfl_{,up_,down_,xor_}sync, __ballot/__any/__all_sync, __activemask,
//     atomics, the float intrinsics kernels use, nvcuda::wmma (bf16/half in,
//     fp32 accumulate), and cudart/cuBLASLt/cuBLAS host calls (simt_cudart.cpp,
//     simt_cublas.cpp) with the real headers' declarations.
//   - SIMT_LAUNCH(kernel, grid, block, smem, stream, args...): `<<<...>>>`
//     under nvcc (kernels/cuda/common.cuh), an emulated launch here.
//
// How it runs a launch (simt_runtime.cpp)
//   Blocks run one after another. A block's threads are cooperative fibers
//   (ucontext): a thread runs until it reaches a barrier or a warp collective,
//   then the next one runs. __syncthreads releases when every live thread
//   waits; a warp collective completes when every lane named in its mask
//   arrived with the same op, mask and width. Everything a GPU leaves undefined
//   and this emulator can see is an error (simt::Error, thrown from the launch):
//   barrier/collective deadlocks, lanes missing from a mask, invalid shuffle
//   widths or offsets that leave the width segment, diverging wmma arguments,
//   misaligned wmma pointers, out-of-bounds dynamic shared memory (guard pages),
//   out-of-bounds device buffers (guard pages), launch-limit violations.
//   With schedule checking on (simt::Options), each launch runs twice — threads
//   and blocks in forward order, then in reverse order — from the same device
//   memory snapshot and the results must agree byte for byte: a missing
//   __syncthreads or any other race/order dependence shows as a difference.
#pragma once
#if defined(__CUDACC__)
#error "tools/simt/simt.h is the g++ emulation of CUDA; nvcc compiles kernels natively"
#endif

#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace simt {

// Every defect the emulator detects. Thrown out of the launch (never from
// inside a fiber) so tests can assert on it.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    bool schedule_check = false;  // run every launch twice (forward/reverse order) and compare
    int devices = 1;              // what cudaGetDeviceCount reports (multi-rank NCCL tests raise it)
    int nccl_timeout_ms = 60000;  // an NCCL rank waiting longer for its peers gets ncclSystemError
};
Options& options();
// RAII: enable the two-schedule race check for a scope.
struct ScheduleCheck {
    bool saved;
    explicit ScheduleCheck(bool on = true) : saved(options().schedule_check) { options().schedule_check = on; }
    ~ScheduleCheck() { options().schedule_check = saved; }
};

// RAII: emulate `n` devices for a scope (cudaSetDevice(0..n-1) per host thread).
struct Devices {
    int saved;
    explicit Devices(int n) : saved(options().devices) { options().devices = n; }
    ~Devices() { options().devices = saved; }
};

// The state kernel code reads through threadIdx & co.
struct ThreadCtx {
    uint3 tid;   // threadIdx
    uint3 bid;   // blockIdx
    dim3 bdim;   // blockDim
    dim3 gdim;   // gridDim
    unsigned lane;  // linear thread id % 32
    unsigned warp;  // linear thread id / 32
};
extern ThreadCtx* g_thread;  // the running fiber's context (null outside kernels)
inline const ThreadCtx& ctx() { return *g_thread; }

[[noreturn]] void kernel_fail(const std::string& message);  // throws from a fiber: reported by the launch
void syncthreads();
void* dynamic_shared();
size_t dynamic_shared_size();

// A warp collective: every lane named in `mask` calls it with the same `op`;
// the last lane to arrive runs `complete(lane_data, mask)` where lane_data[i]
// is what lane i passed (null for lanes outside the mask). Then all return.
using CollectiveFn = void (*)(void* const* lane_data, unsigned mask, void* shared_arg);
void warp_collective(const char* op, unsigned mask, void* my_data, CollectiveFn complete, void* shared_arg = nullptr);

// The launch: `body` is the kernel call with its arguments bound.
void launch(const char* name, const void* kernel, dim3 grid, dim3 block, size_t dynamic_smem, cudaStream_t stream,
            const std::function<void()>& body);

// Device allocations (cudaMalloc): used by the schedule check and for
// pointer validation in cudaMemcpy and the BLAS emulation.
bool is_device_pointer(const void* p, size_t bytes = 1);
// cudaMalloc calls so far (tests check that a training step allocates nothing).
size_t device_allocations();
// Bytes of the live cudaMalloc allocations made on `device` (tests of what a rank holds).
size_t device_bytes_in_use(int device);
// The calling host thread's current device (cudaSetDevice; 0 until set).
// Each allocation remembers the device current when it was made.
int& current_device();
// The device of the allocation holding [p, p + bytes), or -1 when that range
// is not inside one cudaMalloc allocation.
int device_of(const void* p, size_t bytes);
// Bytes of the live cudaMalloc allocations, and the emulated device's size
// (cudaMemGetInfo: free = size - live): 16 GiB.
size_t device_bytes_in_use();
constexpr size_t kDeviceMemory = size_t(16) << 30;

// ---- warp shuffles and votes ------------------------------------------------
enum class Shfl { idx, up, down, bfly };
uint64_t shuffle_bits(Shfl kind, unsigned mask, uint64_t bits, int arg, int width, const char* op);
unsigned vote(int kind, unsigned mask, bool pred, const char* op);  // 0 ballot, 1 any, 2 all

template <typename T>
T shuffle(Shfl kind, unsigned mask, T v, int arg, int width, const char* op) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of a type wider than 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    bits = shuffle_bits(kind, mask, bits, arg, width, op);
    T out;
    std::memcpy(&out, &bits, sizeof(T));
    return out;
}

}  // namespace simt

// ---- the CUDA dialect ------------------------------------------------------------
// The CUDA headers already define __global__/__device__/__host__ as nothing for a
// host compiler; __shared__ they define as nothing too, which would make shared
// arrays per-thread. Here they are function-local statics (one copy, and blocks
// run one at a time) in their own section, so the emulator can poison them.
#undef __shared__
#define __shared__ static __attribute__((section("simt_shared"), aligned(16)))
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#define threadIdx (::simt::ctx().tid)
#define blockIdx (::simt::ctx().bid)
#define blockDim (::simt::ctx().bdim)
#define gridDim (::simt::ctx().gdim)
#ifndef warpSize
#define warpSize 32
#endif

#define SIMT_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::simt::dynamic_shared())
#define SIMT_LAUNCH(kernel, grid, block, smem, stream, ...)                                                   \
    ::simt::launch(#kernel, reinterpret_cast<const void*>(&kernel), dim3(grid), dim3(block), (smem), (stream), \
                   [&]() { kernel(__VA_ARGS__); })

inline void __syncthreads() { ::simt::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    ::simt::warp_collective("__syncwarp", mask, nullptr, [](void* const*, unsigned, void*) {});
}
inline void __threadfence() {}
inline void __threadfence_block() {}
inline unsigned __activemask() { return 0xffffffffu; }

template <typename T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return ::simt::shuffle(::simt::Shfl::idx, mask, v, src, width, "__shfl_sync");
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return ::simt::shuffle(::simt::Shfl::up, mask, v, int(delta), width, "__shfl_up_sync");
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return ::simt::shuffle(::simt::Shfl::down, mask, v, int(delta), width, "__shfl_down_sync");
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    return ::simt::shuffle(::simt::Shfl::bfly, mask, v, lane_mask, width, "__shfl_xor_sync");
}
inline unsigned __ballot_sync(unsigned mask, int pred) { return ::simt::vote(0, mask, pred != 0, "__ballot_sync"); }
inline int __any_sync(unsigned mask, int pred) { return int(::simt::vote(1, mask, pred != 0, "__any_sync")); }
inline int __all_sync(unsigned mask, int pred) { return int(::simt::vote(2, mask, pred != 0, "__all_sync")); }

// CUDA's device-side integer min/max.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// Atomics: fibers never run concurrently, so plain read-modify-write is atomic.
template <typename T>
T atomicAdd(T* p, T v) {
    T old = *p;
    *p = old + v;
    return old;
}
template <typename T>
T atomicMax(T* p, T v) {
    T old = *p;
    *p = std::max(old, v);
    return old;
}
template <typename T>
T atomicMin(T* p, T v) {
    T old = *p;
    *p = std::min(old, v);
    return old;
}
template <typename T>
T atomicExch(T* p, T v) {
    T old = *p;
    *p = v;
    return old;
}
template <typename T>
T atomicCAS(T* p, T cmp, T v) {
    T old = *p;
    if (old == cmp) *p = v;
    return old;
}

// Device math the kernels use (host versions; fast-math intrinsics are exact here).
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return std::min(1.0f, std::max(0.0f, x)); }
inline int __float_as_int(float x) {
    int i;
    std::memcpy(&i, &x, 4);
    return i;
}
inline float __int_as_float(int i) {
    float x;
    std::memcpy(&x, &i, 4);
    return x;
}
inline unsigned __float_as_uint(float x) {
    unsigned i;
    std::memcpy(&i, &x, 4);
    return i;
}
inline float __uint_as_float(unsigned i) {
    float x;
    std::memcpy(&x, &i, 4);
    return x;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(unsigned x) { return __builtin_ffs(int(x)); }
inline int __clz(unsigned x) { return x ? __builtin_clz(x) : 32; }
template <typename T>
T __ldg(const T* p) {
    return *p;
}

// ---- WMMA ----------------------------------------------------------------------
// Each lane's fragment holds the whole tile (num_elements = rows*cols), so the
// element-to-lane mapping — unspecified by CUDA — never matters; every wmma
// call is a warp collective that checks all 32 lanes pass the same pointer,
// stride and layout, and that the fragments fed to mma/store agree across lanes
// (code that writes lane-dependent values into x[] assumes a layout: a bug).
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K>
struct frag_shape;
template <int M, int N, int K>
struct frag_shape<matrix_a, M, N, K> {
    static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct frag_shape<matrix_b, M, N, K> {
    static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct frag_shape<accumulator, M, N, K> {
    static constexpr int rows = M, cols = N;
};

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
class fragment {
public:
    static constexpr int rows = frag_shape<Use, M, N, K>::rows;
    static constexpr int cols = frag_shape<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols;
    using element_type = T;
    T x[num_elements];
};

namespace detail {
struct LoadArgs {
    const void* ptr;
    unsigned ldm;
    int layout;  // 0 row-major, 1 col-major
    void* frag;  // this lane's fragment
};
void check_ptr(const char* op, const void* ptr, unsigned ldm, size_t elem_size);
template <typename Frag, typename T>
void load(Frag& f, const T* ptr, unsigned ldm, int layout, const char* op) {
    LoadArgs args{ptr, ldm, layout, &f};
    ::simt::warp_collective(op, 0xffffffffu, &args, [](void* const* lanes, unsigned, void*) {
        auto* a0 = static_cast<LoadArgs*>(lanes[0]);
        for (int l = 1; l < 32; ++l) {
            auto* a = static_cast<LoadArgs*>(lanes[l]);
            if (a->ptr != a0->ptr || a->ldm != a0->ldm || a->layout != a0->layout)
                ::simt::kernel_fail("wmma::load_matrix_sync: lanes 0 and " + std::to_string(l) +
                                    " pass different pointer/ldm/layout");
        }
        check_ptr("wmma::load_matrix_sync", a0->ptr, a0->ldm, sizeof(T));
        Frag tmp;
        const T* p = static_cast<const T*>(a0->ptr);
        for (int r = 0; r < Frag::rows; ++r)
            for (int c = 0; c < Frag::cols; ++c) {
                const T& v = a0->layout == 0 ? p[size_t(r) * a0->ldm + c] : p[size_t(c) * a0->ldm + r];
                tmp.x[r * Frag::cols + c] = static_cast<typename Frag::element_type>(v);
            }
        for (int l = 0; l < 32; ++l) *static_cast<Frag*>(static_cast<LoadArgs*>(lanes[l])->frag) = tmp;
    });
}
template <typename Frag>
void check_uniform(void* const* lanes, const char* op) {
    const Frag* f0 = static_cast<const Frag*>(lanes[0]);
    for (int l = 1; l < 32; ++l)
        if (std::memcmp(f0, lanes[l], sizeof(Frag)) != 0)
            ::simt::kernel_fail(std::string(op) + ": fragment contents differ between lanes 0 and " + std::to_string(l) +
                                " (lane-dependent writes to fragment.x assume an element layout CUDA leaves unspecified)");
}
}  // namespace detail

template <typename Use, int M, int N, int K, typename T, typename L, typename U>
void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const U* p, unsigned ldm) {
    static_assert(std::is_same_v<L, row_major> || std::is_same_v<L, col_major>, "matrix_a/b fragments need a layout");
    detail::load(f, p, ldm, std::is_same_v<L, row_major> ? 0 : 1, "wmma::load_matrix_sync");
}
template <int M, int N, int K, typename T>
void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout) {
    detail::load(f, p, ldm, layout == mem_row_major ? 0 : 1, "wmma::load_matrix_sync");
}
template <typename Use, int M, int N, int K, typename T, typename L>
void fill_fragment(fragment<Use, M, N, K, T, L>& f, const T& v) {
    for (auto& e : f.x) e = v;
}
template <int M, int N, int K, typename T>
void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
    using Frag = fragment<accumulator, M, N, K, T>;
    struct Args {
        T* p;
        unsigned ldm;
        layout_t layout;
        const Frag* f;
    } args{p, ldm, layout, &f};
    ::simt::warp_collective("wmma::store_matrix_sync", 0xffffffffu, &args, [](void* const* lanes, unsigned, void*) {
        auto* a0 = static_cast<Args*>(lanes[0]);
        const void* frags[32];
        for (int l = 0; l < 32; ++l) {
            auto* a = static_cast<Args*>(lanes[l]);
            if (a->p != a0->p || a->ldm != a0->ldm || a->layout != a0->layout)
                ::simt::kernel_fail("wmma::store_matrix_sync: lanes 0 and " + std::to_string(l) +
                                    " pass different pointer/ldm/layout");
            frags[l] = a->f;
        }
        detail::check_uniform<Frag>(const_cast<void* const*>(frags), "wmma::store_matrix_sync");
        detail::check_ptr("wmma::store_matrix_sync", a0->p, a0->ldm, sizeof(T));
        for (int r = 0; r < Frag::rows; ++r)
            for (int c = 0; c < Frag::cols; ++c) {
                T v = a0->f->x[r * Frag::cols + c];
                if (a0->layout == mem_row_major)
                    a0->p[size_t(r) * a0->ldm + c] = v;
                else
                    a0->p[size_t(c) * a0->ldm + r] = v;
            }
    });
}
// d = a * b + c, products of the (exactly representable) 16-bit inputs summed
// in fp32 in k order.
template <int M, int N, int K, typename Tab, typename La, typename Lb, typename Tc>
void mma_sync(fragment<accumulator, M, N, K, Tc>& d, const fragment<matrix_a, M, N, K, Tab, La>& a,
              const fragment<matrix_b, M, N, K, Tab, Lb>& b, const fragment<accumulator, M, N, K, Tc>& c) {
    using FA = fragment<matrix_a, M, N, K, Tab, La>;
    using FB = fragment<matrix_b, M, N, K, Tab, Lb>;
    using FC = fragment<accumulator, M, N, K, Tc>;
    struct Args {
        FC* d;
        const FA* a;
        const FB* b;
        const FC* c;
    } args{&d, &a, &b, &c};
    ::simt::warp_collective("wmma::mma_sync", 0xffffffffu, &args, [](void* const* lanes, unsigned, void*) {
        const void *fa[32], *fb[32], *fc[32];
        for (int l = 0; l < 32; ++l) {
            auto* x = static_cast<Args*>(lanes[l]);
            fa[l] = x->a;
            fb[l] = x->b;
            fc[l] = x->c;
        }
        detail::check_uniform<FA>(const_cast<void* const*>(fa), "wmma::mma_sync (a)");
        detail::check_uniform<FB>(const_cast<void* const*>(fb), "wmma::mma_sync (b)");
        detail::check_uniform<FC>(const_cast<void* const*>(fc), "wmma::mma_sync (c)");
        auto* a0 = static_cast<Args*>(lanes[0]);
        FC out;
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                float acc = float(a0->c->x[i * N + j]);
                for (int k = 0; k < K; ++k) acc += float(a0->a->x[i * K + k]) * float(a0->b->x[k * N + j]);
                out.x[i * N + j] = Tc(acc);
            }
        for (int l = 0; l < 32; ++l) *static_cast<Args*>(lanes[l])->d = out;
    });
}
}  // namespace wmma
}  // namespace nvcuda
