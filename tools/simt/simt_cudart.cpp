// The cudart calls the CUDA backend makes, emulated on the host with the real
// header's declarations: device memory is guard-paged host memory (see
// simt_runtime.cpp), streams and events are synchronous. Anything the backend
// does not use is simply not defined, so calling it fails at link time rather
// than silently succeeding.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "tools/simt/simt.h"

namespace simt {
void* device_alloc(size_t bytes);
bool device_free(void* p);
std::map<const void*, int>& max_dynamic_smem();
}  // namespace simt

namespace {
thread_local cudaError_t g_last = cudaSuccess;  // per host thread, as in CUDA
cudaError_t fail(cudaError_t e) {
    g_last = e;
    return e;
}
using Clock = std::chrono::steady_clock;
struct Event {
    Clock::time_point t{};
    bool recorded = false;
};
struct Stream {
    int id;
};
}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** p, size_t size) {
    if (!p) return fail(cudaErrorInvalidValue);
    *p = simt::device_alloc(size);
    return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
    if (!p) return cudaSuccess;
    if (!simt::device_free(p)) {
        std::fprintf(stderr, "simt: cudaFree(%p): not a pointer returned by cudaMalloc\n", p);
        return fail(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue);
    const size_t used = simt::device_bytes_in_use();
    *total_bytes = simt::kDeviceMemory;
    *free_bytes = used < simt::kDeviceMemory ? simt::kDeviceMemory - used : 0;
    return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t size) {
    *p = std::malloc(size ? size : 1);
    return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}
cudaError_t cudaFreeHost(void* p) {
    std::free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind) {
    if (count == 0) return cudaSuccess;
    const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyDefault || kind == cudaMemcpyHostToHost) {
        std::memcpy(dst, src, count);
        return cudaSuccess;
    }
    if ((dst_dev && !simt::is_device_pointer(dst, count)) || (src_dev && !simt::is_device_pointer(src, count))) {
        std::fprintf(stderr, "simt: cudaMemcpy(%p, %p, %zu, kind %d): device range outside any cudaMalloc allocation\n",
                     dst, src, count, int(kind));
        return fail(cudaErrorInvalidValue);
    }
    std::memmove(dst, src, count);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void* p, int value, size_t count) {
    if (count == 0) return cudaSuccess;
    if (!simt::is_device_pointer(p, count)) {
        std::fprintf(stderr, "simt: cudaMemset(%p, %zu bytes): outside any cudaMalloc allocation\n", p, count);
        return fail(cudaErrorInvalidValue);
    }
    std::memset(p, value, count);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t count, cudaStream_t) { return cudaMemset(p, value, count); }

cudaError_t cudaStreamCreate(cudaStream_t* s) {
    static std::atomic<int> next{1};
    *s = reinterpret_cast<cudaStream_t>(new Stream{next++});
    return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) { return cudaStreamCreate(s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    delete reinterpret_cast<Stream*>(s);
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* e) {
    *e = reinterpret_cast<cudaEvent_t>(new Event);
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete reinterpret_cast<Event*>(e);
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
    auto* ev = reinterpret_cast<Event*>(e);
    ev->t = Clock::now();
    ev->recorded = true;
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
    auto *x = reinterpret_cast<Event*>(a), *y = reinterpret_cast<Event*>(b);
    if (!x->recorded || !y->recorded) return fail(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(y->t - x->t).count();
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = g_last;
    g_last = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError(void) { return g_last; }
const char* cudaGetErrorName(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        default: return "cudaError (emulated)";
    }
}
const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }

// The emulated devices: simt::options().devices "GPUs" (one unless a test
// asks for more) with sm_80-like limits. The current device is per host
// thread, as in CUDA; allocations record it (NCCL checks buffers against it).
cudaError_t cudaGetDeviceCount(int* n) {
    *n = simt::options().devices;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) {
    if (d < 0 || d >= simt::options().devices) return fail(cudaErrorInvalidDevice);
    simt::current_device() = d;
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int* d) {
    *d = simt::current_device();
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, enum cudaDeviceAttr attr, int) {
    switch (attr) {
        case cudaDevAttrMultiProcessorCount: *value = 4; return cudaSuccess;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 163 << 10; return cudaSuccess;
        case cudaDevAttrComputeCapabilityMajor: *value = 8; return cudaSuccess;
        case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
        case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
        case cudaDevAttrClockRate: *value = 1410000; return cudaSuccess;
        default:
            std::fprintf(stderr, "simt: cudaDeviceGetAttribute(%d) is not emulated\n", int(attr));
            std::abort();
    }
}
cudaError_t cudaFuncSetAttribute(const void* func, enum cudaFuncAttribute attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) {
        std::fprintf(stderr, "simt: cudaFuncSetAttribute(attr %d) is not emulated\n", int(attr));
        std::abort();
    }
    if (value > (163 << 10)) return fail(cudaErrorInvalidValue);
    simt::max_dynamic_smem()[func] = value;
    return cudaSuccess;
}

}  // extern "C"
