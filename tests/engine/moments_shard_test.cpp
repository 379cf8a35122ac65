// ParamStore::moments_from (engine/backend.h): a ZeRO-1 rank's AdamW points a
// copy of the store at moments that cover its shard only; adamw_step must
// then read and write them at offset - moments_from and update exactly what
// the same step on full-size moments updates. (CUDA: tests/cuda/emu_zero.cpp.)
#include <doctest/doctest.h>

#include <vector>

#include "common/error.h"
#include "engine/backend.h"

using namespace aligners;
using namespace aligners::engine;

TEST_CASE("cpu backend: adamw_step on shard-sized moments (moments_from) equals the step on full moments") {
    auto be = make_cpu_backend();
    const int64_t n = 10, from = 3, count = 4;
    std::vector<float> w(n), g(n), m0(n), v0(n);
    for (int64_t i = 0; i < n; ++i) {
        w[size_t(i)] = 0.1f * float(i) - 0.4f;
        g[size_t(i)] = 0.3f - 0.07f * float(i);
        m0[size_t(i)] = 0.01f * float(i);
        v0[size_t(i)] = 0.002f * float(i + 1);
    }
    ParamStore full = be->alloc_params(n, true), shard = be->alloc_params_without_moments(n);
    for (ParamStore* p : {&full, &shard}) {
        be->upload(p->master, w.data(), n);
        be->upload(p->grad, g.data(), n);
    }
    be->upload(full.m, m0.data(), n);
    be->upload(full.v, v0.data(), n);
    Tensor sm = be->alloc(count, DType::F32), sv = be->alloc(count, DType::F32);
    be->upload(sm, m0.data() + from, count);
    be->upload(sv, v0.data() + from, count);
    ParamStore q = shard;
    q.m = sm;
    q.v = sv;
    q.moments_from = from;
    AdamWArgs a;
    a.lr = 0.05f;
    a.weight_decay = 0.1f;
    a.step = 3;
    a.grad_scale = 0.7f;
    be->adamw_step(full, from, count, a);
    be->adamw_step(q, from, count, a);
    std::vector<float> wf(n), ws(n), mf(n), vf(n), ms(count), vs(count);
    be->download(wf.data(), full.master, n);
    be->download(ws.data(), shard.master, n);
    be->download(mf.data(), full.m, n);
    be->download(vf.data(), full.v, n);
    be->download(ms.data(), sm, count);
    be->download(vs.data(), sv, count);
    CHECK(wf == ws);  // the range updated, the rest untouched, in both
    for (int64_t i = 0; i < n; ++i) CHECK((i >= from && i < from + count) == (wf[size_t(i)] != w[size_t(i)]));
    for (int64_t i = 0; i < count; ++i) {
        CHECK(ms[size_t(i)] == mf[size_t(from + i)]);
        CHECK(vs[size_t(i)] == vf[size_t(from + i)]);
        CHECK(ms[size_t(i)] != m0[size_t(from + i)]);
    }
    // A range outside the shard's moments is refused, not read past them.
    CHECK_THROWS_AS(be->adamw_step(q, from - 1, count, a), Error);
    CHECK_THROWS_AS(be->adamw_step(q, from + 1, count, a), Error);
    be->free(sm);
    be->free(sv);
    be->free_params(full);
    be->free_params(shard);
}
