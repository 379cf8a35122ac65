// --devices, --nodes, --node-rank, --rendezvous on the trainers
// (cli/data_parallel_flags.cpp): inconsistent layouts are usage errors
// naming the flag, and this CPU-only build refuses data parallelism with the
// reason instead of training on one device.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_util.h"

using namespace aligners;

TEST_CASE("train --devices/--nodes: refused up front with the flag named; CPU-only builds say why") {
    const std::string dir = test::scratch_dir("cli_data_parallel");
    for (const char* kind : {"aligner", "inspector", "sft", "dpo"}) {
        CAPTURE(std::string(kind));
        const std::vector<std::string> base = {"train", kind, "--model", dir + "/none", "--data", dir + "/none.jsonl",
                                               "--out", dir + "/o"};
        auto refused = [&](std::vector<std::string> extra, const std::string& expected) {
            std::vector<std::string> args = base;
            args.insert(args.end(), extra.begin(), extra.end());
            auto r = test::run_aligners(args);
            CAPTURE(r.err);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find(expected) != std::string::npos);
        };
        refused({"--devices", "0"}, "--devices: expected an integer >= 1, got '0'");
        refused({"--nodes", "2", "--node-rank", "2", "--rendezvous", "h:1"}, "--node-rank: expected 0..1 (--nodes 2), got 2");
        refused({"--nodes", "2"}, "--nodes 2: needs --rendezvous HOST:PORT");
        refused({"--rendezvous", "h:1"}, "--rendezvous: only used with --nodes > 1");
        refused({"--nodes", "2", "--rendezvous", "node0"}, "--rendezvous: expected HOST:PORT, got 'node0'");
#ifndef ALIGNERS_WITH_CUDA
        refused({"--devices", "2"}, "--devices 2 --nodes 1: data-parallel training runs on GPUs over NCCL; this binary "
                                    "was built without CUDA");
#endif
    }
}
