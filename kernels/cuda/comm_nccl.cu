// engine::Comm on NCCL: every collective is enqueued on the rank's backend
// stream, so it runs after the backward kernels that produced its input and
// before the optimizer kernels that read its output, without host waits.
// NCCL errors become aligners::Error naming the call, NCCL's error string and
// its last message (ncclGetLastError).
#include <nccl.h>

#include <cstring>
#include <string>

#include "common/error.h"
#include "kernels/cuda/comm_nccl.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_backend.h"

namespace aligners::engine {

namespace {

void nccl_check(ncclResult_t r, const char* call, ncclComm_t comm) {
    if (r == ncclSuccess) return;
    const char* last = ncclGetLastError(comm);
    fail(std::string(call) + " failed: " + ncclGetErrorString(r) + (last && *last ? std::string(": ") + last : ""));
}

ncclDataType_t nccl_type(DType t) {
    switch (t) {
        case DType::F32: return ncclFloat32;
        case DType::BF16: return ncclBfloat16;
        case DType::I32: return ncclInt32;
    }
    fail("comm: unknown dtype");
}

class NcclComm final : public Comm {
public:
    NcclComm(Backend& be, const NcclId& id, int nranks, int rank) : rank_(rank), size_(nranks) {
        stream_ = static_cast<cudaStream_t>(cuda_backend_stream(be));
        ncclUniqueId uid;
        static_assert(sizeof uid.internal == sizeof id.bytes);
        std::memcpy(uid.internal, id.bytes, sizeof uid.internal);
        nccl_check(ncclCommInitRank(&comm_, nranks, uid, rank), "ncclCommInitRank", nullptr);
        CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&scalar_), sizeof(double)));
    }
    ~NcclComm() override {
        cudaFree(scalar_);
        ncclCommDestroy(comm_);
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }

    void all_reduce(const Tensor& send, const Tensor& recv, int64_t count) override {
        check(send, recv, count, count, "all_reduce");
        nccl_check(ncclAllReduce(send.ptr, recv.ptr, size_t(count), nccl_type(send.dtype), ncclSum, comm_, stream_),
                   "ncclAllReduce", comm_);
    }
    void reduce_scatter(const Tensor& send, const Tensor& recv, int64_t count) override {
        check(send, recv, count * size_, count, "reduce_scatter");
        nccl_check(ncclReduceScatter(send.ptr, recv.ptr, size_t(count), nccl_type(send.dtype), ncclSum, comm_,
                                     stream_),
                   "ncclReduceScatter", comm_);
    }
    void all_gather(const Tensor& send, const Tensor& recv, int64_t count) override {
        check(send, recv, count, count * size_, "all_gather");
        nccl_check(ncclAllGather(send.ptr, recv.ptr, size_t(count), nccl_type(send.dtype), comm_, stream_),
                   "ncclAllGather", comm_);
    }
    void broadcast(const Tensor& buf, int64_t count, int root) override {
        check(buf, buf, count, count, "broadcast");
        nccl_check(ncclBroadcast(buf.ptr, buf.ptr, size_t(count), nccl_type(buf.dtype), root, comm_, stream_),
                   "ncclBroadcast", comm_);
    }
    double all_reduce_sum(double local) override {
        CUDA_CHECK(cudaMemcpyAsync(scalar_, &local, sizeof local, cudaMemcpyHostToDevice, stream_));
        nccl_check(ncclAllReduce(scalar_, scalar_, 1, ncclFloat64, ncclSum, comm_, stream_), "ncclAllReduce", comm_);
        double out = 0;
        CUDA_CHECK(cudaMemcpyAsync(&out, scalar_, sizeof out, cudaMemcpyDeviceToHost, stream_));
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        return out;
    }
    void group_start() override { nccl_check(ncclGroupStart(), "ncclGroupStart", comm_); }
    void group_end() override { nccl_check(ncclGroupEnd(), "ncclGroupEnd", comm_); }
    void barrier() override {
        all_reduce_sum(0.0);  // returns once every rank's stream reached it
    }

private:
    void check(const Tensor& send, const Tensor& recv, int64_t send_count, int64_t recv_count, const char* what) {
        ALIGNERS_CHECK(send.dtype == recv.dtype, std::string("comm ") + what + ": send and recv differ in dtype");
        ALIGNERS_CHECK(send_count >= 0 && send_count <= send.numel && recv_count <= recv.numel,
                       std::string("comm ") + what + ": count exceeds a tensor");
    }
    int rank_, size_;
    ncclComm_t comm_ = nullptr;
    cudaStream_t stream_ = nullptr;
    double* scalar_ = nullptr;
};

}  // namespace

NcclId nccl_unique_id() {
    ncclUniqueId uid;
    nccl_check(ncclGetUniqueId(&uid), "ncclGetUniqueId", nullptr);
    NcclId id;
    std::memcpy(id.bytes, uid.internal, sizeof id.bytes);
    return id;
}

std::unique_ptr<Comm> make_nccl_comm(Backend& backend, const NcclId& id, int nranks, int rank) {
    return std::make_unique<NcclComm>(backend, id, nranks, rank);
}

int nccl_version() {
    int v = 0;
    nccl_check(ncclGetVersion(&v), "ncclGetVersion", nullptr);
    return v;
}

}  // namespace aligners::engine
