// Collective communication between the ranks of a data-parallel run, beside
// Backend: the optimizer (engine/optim.h) and the data-parallel trainer call
// a Comm, never NCCL, as the model code calls a Backend, never CUDA.
//
// A Comm belongs to one rank and one Backend: its tensors are that backend's
// memory, and every collective is ordered after the backend's earlier work on
// the same stream (NCCL: enqueued on the backend's stream). Every rank must
// issue the same collectives in the same order with the same counts, as NCCL
// requires. Reductions are sums. In-place calls follow NCCL's rules:
//   all_reduce:     send == recv
//   reduce_scatter: recv == view(send, rank * count, count)
//   all_gather:     send == view(recv, rank * count, count)
//
// Implementations: make_single_comm() (one rank: identity copies, any
// backend), kernels/cuda/comm_nccl.h (NCCL; emulated by tools/simt/simt_nccl.cpp).
#pragma once
#include <cstdint>
#include <memory>

#include "engine/backend.h"

namespace aligners::engine {

class Comm {
public:
    virtual ~Comm() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // recv (count) = sum over ranks of send (count). F32 or BF16, same dtype.
    virtual void all_reduce(const Tensor& send, const Tensor& recv, int64_t count) = 0;
    // send (size * count): recv (count) = sum over ranks of send[rank * count, +count).
    virtual void reduce_scatter(const Tensor& send, const Tensor& recv, int64_t count) = 0;
    // recv (size * count): recv[r * count, +count) = rank r's send (count).
    virtual void all_gather(const Tensor& send, const Tensor& recv, int64_t count) = 0;
    // buf (count) on every rank = root's buf.
    virtual void broadcast(const Tensor& buf, int64_t count, int root) = 0;
    // The sum over ranks of a host number (e.g. a partial sum of squares);
    // returns after every rank contributed.
    virtual double all_reduce_sum(double local) = 0;
    // Collectives between group_start() and group_end() are issued together
    // (NCCL: ncclGroupStart/End), e.g. two all-gathers after one step.
    virtual void group_start() = 0;
    virtual void group_end() = 0;
    // Returns when every rank has called it and this rank's earlier work is done.
    virtual void barrier() = 0;
};

// One rank: collectives copy send to recv; barrier synchronizes the backend.
std::unique_ptr<Comm> make_single_comm(Backend& backend);

}  // namespace aligners::engine
