// --devices, --nodes, --node-rank, --rendezvous for the trainers
// (cli/train_flags.h CommonFlags): data-parallel ZeRO-1 training over NCCL,
// one process per node, one thread per device (train/data_parallel.h).
#pragma once
#include <memory>
#include <string>

#include "common/args.h"
#include "train/data_parallel.h"

namespace aligners::cli {

struct DataParallelFlags {
    int devices = 1, nodes = 1, node_rank = 0;
    std::string rendezvous;
    int rendezvous_timeout = 300;  // seconds

    void add(ArgParser& a);
    // Null for one device on one node. Throws UsageError for an inconsistent
    // layout, or on a binary built without CUDA.
    std::shared_ptr<const train::DataParallelSpec> spec(const std::string& attention) const;
};

}  // namespace aligners::cli
