// engine::Comm over NCCL (kernels/cuda/comm_nccl.cu), for ranks that each own
// a CUDA backend on their own device. Plain C++: callers need no CUDA header.
//
//     NcclId id = nccl_unique_id();                  // one rank makes it; others receive it
//     // on each rank's thread, after make_cuda_backend({.device = local_rank}):
//     auto comm = make_nccl_comm(*backend, id, world, rank);   // blocks until all ranks joined
#pragma once
#include <memory>

#include "engine/comm.h"

namespace aligners::engine {

// ncclUniqueId's 128 bytes, exchanged between processes as they are
// (engine/rendezvous.h).
struct NcclId {
    char bytes[128] = {};
};

NcclId nccl_unique_id();

// ncclCommInitRank on the calling thread's device (the backend's): returns
// once all `nranks` ranks have joined. Collectives run on the backend's stream.
std::unique_ptr<Comm> make_nccl_comm(Backend& backend, const NcclId& id, int nranks, int rank);

// The NCCL version the binary runs with (ncclGetVersion), e.g. 22809.
int nccl_version();

}  // namespace aligners::engine
