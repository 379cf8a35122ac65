#include "engine/comm.h"

#include "common/error.h"

namespace aligners::engine {

namespace {

// A single rank: every collective is the identity (the sum over one rank).
class SingleComm final : public Comm {
public:
    explicit SingleComm(Backend& be) : be_(be) {}
    int rank() const override { return 0; }
    int size() const override { return 1; }
    void all_reduce(const Tensor& send, const Tensor& recv, int64_t count) override { move(send, recv, count); }
    void reduce_scatter(const Tensor& send, const Tensor& recv, int64_t count) override { move(send, recv, count); }
    void all_gather(const Tensor& send, const Tensor& recv, int64_t count) override { move(send, recv, count); }
    void broadcast(const Tensor&, int64_t, int root) override {
        ALIGNERS_CHECK(root == 0, "broadcast: root " + std::to_string(root) + " of a single rank");
    }
    double all_reduce_sum(double local) override { return local; }
    void group_start() override {}
    void group_end() override {}
    void barrier() override { be_.synchronize(); }

private:
    void move(const Tensor& send, const Tensor& recv, int64_t count) {
        ALIGNERS_CHECK(send.dtype == recv.dtype && count <= send.numel && count <= recv.numel,
                       "comm: send and recv differ in dtype or are shorter than count");
        if (send.ptr != recv.ptr && count > 0) be_.copy(view(recv, 0, count), view(send, 0, count));
    }
    Backend& be_;
};

}  // namespace

std::unique_ptr<Comm> make_single_comm(Backend& backend) { return std::make_unique<SingleComm>(backend); }

}  // namespace aligners::engine
