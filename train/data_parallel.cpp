#include "train/data_parallel.h"

#include "common/error.h"
#include "train/train_loop.h"

namespace aligners::train {

DataParallel::DataParallel(engine::Model& model0, const DataParallelSpec& spec, const engine::AdamWConfig& adam)
    : spec_(spec), world_(spec.world()) {
    if (spec.devices < 1 || spec.nodes < 1 || spec.node_rank < 0 || spec.node_rank >= spec.nodes)
        throw Error("data parallel: " + std::to_string(spec.devices) + " devices on node " +
                    std::to_string(spec.node_rank) + " of " + std::to_string(spec.nodes) + " is not a valid layout");
    if (!spec.make_comm || (spec.devices > 1 && !spec.make_backend))
        throw Error("data parallel: no way to make the ranks' backends and comms (a CUDA build is needed)");
    if (!spec.backend_name.empty() && spec.backend_name != model0.backend().name())
        throw Error("data parallel (" + std::to_string(spec.devices) + " devices, " + std::to_string(spec.nodes) +
                    " nodes) runs on the " + spec.backend_name + " backend; this run's model is on '" +
                    model0.backend().name() + "' (use --device " + spec.backend_name + ")");
    ranks_.resize(size_t(spec.devices));
    ranks_[0].model = &model0;
    for (int l = 1; l < spec.devices; ++l) threads_.emplace_back([this, l] { worker(l); });
    const auto& config = model0.config();
    try {
        // Backends and replicas first: a device that fails (missing, out of
        // memory) is reported before any rank waits inside ncclCommInitRank
        // for a peer that will never come.
        run([&](int l) {
            if (l == 0) return;
            Rank& R = ranks_[size_t(l)];
            R.backend = spec_.make_backend(l);
            // Weights come from rank 0; moments only for the rank's shard (AdamW's).
            R.replica = engine::Model::create(config, *R.backend, 0, true, /*moments=*/false);
            R.model = R.replica.get();
            R.model->set_checkpoint_activations(model0.checkpoint_activations());
        });
        if (spec_.prepare) spec_.prepare();
        run([&](int l) {
            Rank& R = ranks_[size_t(l)];
            R.comm = spec_.make_comm(R.model->backend(), spec_.node_rank * spec_.devices + l, world_);
            R.opt = std::make_unique<engine::AdamW>(*R.model, adam, R.comm.get());
        });
    } catch (...) {
        shutdown();  // a constructor that throws runs no destructor
        throw;
    }
    broadcast_state();
}

DataParallel::~DataParallel() { shutdown(); }

void DataParallel::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    // Comms before the backends they use; rank 0's model is the trainer's.
    for (Rank& R : ranks_) {
        R.opt.reset();
        R.comm.reset();
        R.replica.reset();
        R.backend.reset();
    }
}

void DataParallel::worker(int local) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(int)>* task;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return quit_ || generation_ != seen; });
            if (quit_) return;
            seen = generation_;
            task = task_;
        }
        try {
            (*task)(local);
        } catch (...) {
            ranks_[size_t(local)].error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            --pending_;
        }
        cv_.notify_all();
    }
}

void DataParallel::run(const std::function<void(int)>& fn) {
    for (Rank& R : ranks_) R.error = nullptr;
    {
        std::lock_guard<std::mutex> lock(mu_);
        task_ = &fn;
        pending_ = int(threads_.size());
        ++generation_;
    }
    cv_.notify_all();
    try {
        fn(0);
    } catch (...) {
        ranks_[0].error = std::current_exception();
    }
    {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return pending_ == 0; });
        task_ = nullptr;
    }
    for (Rank& R : ranks_)
        if (R.error) std::rethrow_exception(R.error);
}

DataParallel::StepResult DataParallel::step(const std::vector<MicroBatch>& micro, float lr) {
    StepResult out;
    run([&](int l) {
        Rank& R = ranks_[size_t(l)];
        const float scale = 1.0f / float(micro.size());
        double loss_sum = 0, counted = 0;
        for (size_t i = size_t(R.comm->rank()); i < micro.size(); i += size_t(world_)) {
            const float loss = R.model->forward_backward(micro[i].batch, scale);
            loss_sum += double(loss) * double(R.model->counted());
            counted += double(R.model->counted());
        }
        loss_sum = R.comm->all_reduce_sum(loss_sum);
        counted = R.comm->all_reduce_sum(counted);
        const float norm = R.opt->step(lr);
        if (l == 0) out = StepResult{loss_sum, counted, norm};
    });
    return out;
}

void DataParallel::set_steps_taken(int64_t n) {
    for (Rank& R : ranks_) R.opt->set_steps_taken(n);
}

void DataParallel::reset_moments() {
    run([&](int l) { ranks_[size_t(l)].opt->reset_moments(); });
}

void DataParallel::gather_moments() {
    run([&](int l) { ranks_[size_t(l)].opt->gather_moments(); });
}

void DataParallel::broadcast_state() {
    run([&](int l) { ranks_[size_t(l)].opt->broadcast_state(0); });
}

}  // namespace aligners::train
