#include "cli/data_parallel_flags.h"

#include <cstring>

#include "common/error.h"
#include "common/rendezvous.h"

#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/comm_nccl.h"
#include "kernels/cuda/cuda_backend.h"
#endif

namespace aligners::cli {

void DataParallelFlags::add(ArgParser& a) {
    a.option("--devices", &devices, "N", "GPUs of this node to train on, data parallel with ZeRO-1 over NCCL",
             ranges::count());
    a.option("--nodes", &nodes, "N", "nodes (one process each) of a multi-node run", ranges::count());
    a.option("--node-rank", &node_rank, "R", "this node's rank in a multi-node run (0 serves --rendezvous)",
             ranges::non_negative());
    a.option("--rendezvous", &rendezvous, "HOST:PORT",
             "multi-node: where node 0 listens and the others connect to exchange NCCL's id");
    a.option("--rendezvous-timeout", &rendezvous_timeout, "S", "seconds to wait for every node at the rendezvous",
             ranges::count());
}

std::shared_ptr<const train::DataParallelSpec> DataParallelFlags::spec(const std::string& attention) const {
    if (node_rank >= nodes)
        throw UsageError("--node-rank: expected 0.." + std::to_string(nodes - 1) + " (--nodes " +
                         std::to_string(nodes) + "), got " + std::to_string(node_rank));
    if (nodes > 1 && rendezvous.empty()) throw UsageError("--nodes " + std::to_string(nodes) + ": needs --rendezvous HOST:PORT");
    if (nodes == 1 && !rendezvous.empty()) throw UsageError("--rendezvous: only used with --nodes > 1");
    if (!rendezvous.empty()) parse_host_port("--rendezvous", rendezvous);
    if (devices == 1 && nodes == 1) return nullptr;
#ifndef ALIGNERS_WITH_CUDA
    (void)attention;
    throw UsageError("--devices " + std::to_string(devices) + " --nodes " + std::to_string(nodes) +
                     ": data-parallel training runs on GPUs over NCCL; this binary was built without CUDA "
                     "(build it with 'make cuda')");
#else
    auto spec = std::make_shared<train::DataParallelSpec>();
    spec->devices = devices;
    spec->nodes = nodes;
    spec->node_rank = node_rank;
    spec->make_backend = [attention](int local) {
        engine::CudaBackendOptions o;
        o.attention = attention;
        o.device = local;
        return engine::make_cuda_backend(o);
    };
    // NCCL's id: made by node 0 and served to the other nodes, which fetch
    // it, once per process before any rank joins.
    auto id = std::make_shared<engine::NcclId>();
    const DataParallelFlags flags = *this;
    spec->prepare = [id, flags] {
        const int timeout_ms = flags.rendezvous_timeout * 1000;
        if (flags.node_rank == 0) {
            *id = engine::nccl_unique_id();
            if (flags.nodes > 1)
                rendezvous_serve(flags.rendezvous, flags.nodes, std::string(id->bytes, sizeof id->bytes), timeout_ms);
            return;
        }
        std::string got = rendezvous_fetch(flags.rendezvous, flags.node_rank, flags.nodes, timeout_ms);
        if (got.size() != sizeof id->bytes)
            throw Error("--rendezvous " + flags.rendezvous + ": node 0 sent " + std::to_string(got.size()) +
                        " bytes, not an NCCL id (" + std::to_string(sizeof id->bytes) + ")");
        std::memcpy(id->bytes, got.data(), got.size());
    };
    spec->backend_name = "cuda";
    spec->make_comm = [id](engine::Backend& be, int rank, int world) {
        return engine::make_nccl_comm(be, *id, world, rank);
    };
    return spec;
#endif
}

}  // namespace aligners::cli
