// Data-parallel training (ZeRO-1) inside one process: one rank per device,
// each a host thread with its own Backend, model replica and Comm. Rank 0 is
// the trainer's own model and runs on the calling thread (evaluation,
// checkpoints and saving stay there); ranks 1..N-1 run on worker threads.
//
// A step gives rank r the micro-batches i with i % world == r (global rank
// over all nodes); every rank accumulates them with the single-device scale
// 1/k (k = the step's micro-batch count), so the summed gradient is the
// single-device one up to the order of the cross-rank sum. AdamW then runs
// sharded (engine/optim.h). Results are deterministic for a given world size;
// against one device they differ only by that summation order (see
// docs/SCALING.md).
#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/comm.h"
#include "engine/model.h"
#include "engine/optim.h"

namespace aligners::train {

struct MicroBatch;

// How to make the ranks: the command line's devices, or a test's.
struct DataParallelSpec {
    int devices = 1;    // ranks (devices) in this process
    int nodes = 1;      // processes, one per node
    int node_rank = 0;  // this process's node
    // Called on local rank l's own thread (l >= 1): its device's backend.
    std::function<std::unique_ptr<engine::Backend>(int local_rank)> make_backend;
    // Called once on the calling thread after every backend exists and before
    // any comm (may be empty): the multi-node rendezvous.
    std::function<void()> prepare;
    // Called on every local rank's thread at once (it blocks until the whole
    // world joined): the comm of global rank `rank` of `world`.
    std::function<std::unique_ptr<engine::Comm>(engine::Backend&, int rank, int world)> make_comm;
    // The backend every rank must run on (Backend::name()), checked on rank 0
    // before anything starts; empty: not checked.
    std::string backend_name;
    int world() const { return devices * nodes; }
};

class DataParallel {
public:
    // Makes ranks 1..devices-1 (backend, replica of model0's config) and every
    // rank's comm, then copies rank 0's weights and moments to all ranks.
    DataParallel(engine::Model& model0, const DataParallelSpec& spec, const engine::AdamWConfig& adam);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int devices() const { return int(ranks_.size()); }
    engine::Model& model(int local) { return *ranks_[size_t(local)].model; }
    engine::AdamW& optimizer(int local) { return *ranks_[size_t(local)].opt; }
    int world() const { return world_; }

    struct StepResult {
        double loss_sum = 0;  // sum of loss * counted over the step's micro-batches (all ranks)
        double counted = 0;
        float grad_norm = 0;
    };
    // Forward/backward of this process's share of `micro`, then the sharded
    // AdamW step, on every rank.
    StepResult step(const std::vector<MicroBatch>& micro, float lr);
    void set_steps_taken(int64_t n);
    void reset_moments();    // fresh AdamW moments on every rank (a new phase)
    void gather_moments();   // rank 0 holds every shard's moments (before a checkpoint)
    void broadcast_state();  // rank 0's weights and moments to every rank (after loading a checkpoint)

    // Runs fn(local_rank) on every rank at once (0 on the calling thread) and
    // rethrows the lowest rank's exception.
    void run(const std::function<void(int)>& fn);

private:
    struct Rank {
        std::unique_ptr<engine::Backend> backend;  // null for rank 0 (the trainer's)
        std::unique_ptr<engine::Model> replica;    // null for rank 0
        engine::Model* model = nullptr;
        std::unique_ptr<engine::Comm> comm;
        std::unique_ptr<engine::AdamW> opt;
        std::exception_ptr error;
    };
    void worker(int local);
    void shutdown();  // joins the workers, frees the replicas

    const DataParallelSpec spec_;
    int world_ = 1;
    std::vector<Rank> ranks_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable cv_;
    const std::function<void(int)>* task_ = nullptr;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool quit_ = false;
};

}  // namespace aligners::train
