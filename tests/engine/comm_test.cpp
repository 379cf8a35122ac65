// engine::Comm on one rank (engine/comm.cpp): every collective is the sum or
// concatenation over a single rank, i.e. a copy, and AdamW given it takes the
// plain single-device step. (Multi-rank comms: tests/cuda/emu_nccl.cpp.)
#include <doctest/doctest.h>

#include <vector>

#include "engine/backend.h"
#include "engine/comm.h"

using namespace aligners;
using namespace aligners::engine;

TEST_CASE("engine/comm.cpp: one rank's collectives are copies") {
    auto be = make_cpu_backend();
    auto comm = make_single_comm(*be);
    CHECK((comm->rank() == 0 && comm->size() == 1));
    Tensor a = be->alloc(4, DType::F32), b = be->alloc(4, DType::F32);
    const std::vector<float> x = {1, -2, 3.5f, 4};
    be->upload(a, x.data(), 4);
    std::vector<float> got(4);
    comm->all_reduce(a, b, 4);
    be->download(got.data(), b, 4);
    CHECK(got == x);
    be->fill(b, 0.0f);
    comm->reduce_scatter(a, view(b, 0, 3), 3);
    be->download(got.data(), b, 4);
    CHECK(got == std::vector<float>{1, -2, 3.5f, 0});
    comm->all_gather(view(a, 0, 2), view(a, 0, 2), 2);  // in place: unchanged
    be->download(got.data(), a, 4);
    CHECK(got == x);
    comm->broadcast(a, 4, 0);
    CHECK_THROWS(comm->broadcast(a, 4, 1));
    CHECK(comm->all_reduce_sum(2.5) == 2.5);
    comm->group_start();
    comm->group_end();
    comm->barrier();
    be->free(a);
    be->free(b);
}
