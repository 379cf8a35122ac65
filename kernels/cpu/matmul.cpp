// Linear layers (through the shared SGEMM), element-wise add, row gather.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "common/thread_pool.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemv.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"

namespace aligners::cpu {

// out (N,OC) = inp (N,IC) @ weight (OC,IC)^T + bias (OC)
template <typename T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int IC, int OC) {
    if constexpr (std::is_same_v<T, float>) {
        if (N <= 4)  // decode: weights streamed once, chunks shared dynamically (gemv.cpp)
            gemv_nt(N, OC, IC, inp, IC, weight, IC, out, OC);
        else
            sgemm(false, true, N, OC, IC, 1.0f, inp, IC, weight, IC, 0.0f, out, OC);
    } else {  // the float64 reference path (finite-difference tests)
        for (int n = 0; n < N; ++n)
            for (int o = 0; o < OC; ++o) {
                T s = 0;
                for (int i = 0; i < IC; ++i) s += inp[int64_t(n) * IC + i] * weight[int64_t(o) * IC + i];
                out[int64_t(n) * OC + o] = s;
            }
    }
    if (!bias) return;
    parallel_for_work(N, OC, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            T* o = out + n * OC;
            for (int c = 0; c < OC; ++c) o[c] += bias[c];
        }
    });
}

// dinp (N,IC) = dout (N,OC) @ weight (OC,IC);  dweight (OC,IC) += dout^T @ inp;
// dbias (OC) += column sums of dout.
template <typename T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                     const T* weight, int N, int IC, int OC) {
    if constexpr (std::is_same_v<T, float>) {
        if (dinp) sgemm(false, false, N, IC, OC, 1.0f, dout, OC, weight, IC, 0.0f, dinp, IC);
        if (dweight) sgemm(true, false, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dweight, IC);
    } else {
        for (int n = 0; n < N && dinp; ++n)
            for (int i = 0; i < IC; ++i) {
                T s = 0;
                for (int o = 0; o < OC; ++o) s += dout[int64_t(n) * OC + o] * weight[int64_t(o) * IC + i];
                dinp[int64_t(n) * IC + i] = s;
            }
        for (int o = 0; o < OC && dweight; ++o)
            for (int i = 0; i < IC; ++i) {
                T s = 0;
                for (int n = 0; n < N; ++n) s += dout[int64_t(n) * OC + o] * inp[int64_t(n) * IC + i];
                dweight[int64_t(o) * IC + i] += s;
            }
    }
    if (!dbias) return;
    parallel_for_work(OC, N, [&](int64_t c0, int64_t c1) {
        for (int n = 0; n < N; ++n) {
            const T* d = dout + int64_t(n) * OC;
            for (int64_t c = c0; c < c1; ++c) dbias[c] += d[c];
        }
    });
}

template <typename T>
void add(T* out, const T* a, const T* b, int64_t n) {
    parallel_for_work(n, 1, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
    });
}

// out (rows,C) = inp[idx[r]]
template <typename T>
void gather_rows(T* out, const T* inp, const int32_t* idx, int rows, int C) {
    for (int r = 0; r < rows; ++r) std::memcpy(out + int64_t(r) * C, inp + int64_t(idx[r]) * C, sizeof(T) * C);
}

// dinp (N,C) = 0, then dinp[idx[r]] += dout[r] (in r order)
template <typename T>
void gather_rows_backward(T* dinp, const T* dout, const int32_t* idx, int rows, int N, int C) {
    std::memset(dinp, 0, sizeof(T) * size_t(N) * C);
    for (int r = 0; r < rows; ++r) {
        T* d = dinp + int64_t(idx[r]) * C;
        for (int c = 0; c < C; ++c) d[c] += dout[int64_t(r) * C + c];
    }
}

#define ALIGNERS_INSTANTIATE(T) \
    template void matmul_forward<T>(T* out, const T* inp, const T* weight, const T* bias, int N, int IC, int OC); \
    template void matmul_backward<T>(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, int N, int IC, int OC); \
    template void add<T>(T* out, const T* a, const T* b, int64_t n); \
    template void gather_rows<T>(T* out, const T* inp, const int32_t* idx, int rows, int C); \
    template void gather_rows_backward<T>(T* dinp, const T* dout, const int32_t* idx, int rows, int N, int C);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
