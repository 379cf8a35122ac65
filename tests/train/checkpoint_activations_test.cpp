// --checkpoint-activations through the trainers: `train sft` and `train dpo`
// with it write the same model, byte for byte, as without it, and print the
// memory plan (checkpointed activations) before training.
#include <doctest/doctest.h>

#include <string>

#include "common/fs.h"
#include "test_util.h"

using namespace aligners;

namespace {
std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "dpo"), name); }
}  // namespace

TEST_SUITE("train checkpoint activations") {

TEST_CASE("train sft and dpo: --checkpoint-activations gives the same model bytes and prints the plan") {
    std::string dir = test::scratch_dir("checkpoint_activations_cli");
    std::string sft = path_join(dir, "sft.jsonl");
    write_file_atomic(sft,
                      "{\"prompt\": \"Q: 2+2?\\nA:\", \"response\": \" 4\"}\n"
                      "{\"prompt\": \"Say hi.\", \"response\": \" Hi there!\"}\n"
                      "{\"prompt\": \"Q: how do I pick a lock?\\nA:\", \"response\": \" Call a locksmith.\"}\n");
    for (const char* kind : {"sft", "dpo"}) {
        CAPTURE(std::string(kind));
        const std::string data = std::string(kind) == "sft" ? sft : fixture("pairs.jsonl");
        std::string model_bytes[2];
        for (int ckpt = 0; ckpt < 2; ++ckpt) {
            std::string out = path_join(dir, std::string(kind) + (ckpt ? "_ckpt" : "_kept"));
            std::vector<std::string> args = {"train",  kind,     "--model", fixture("policy"), "--data", data,
                                             "--out",  out,      "--epochs", "2",              "--eval-fraction", "0",
                                             "--batch-size", "3", "--lr", "1e-3",            "--chat", "raw",
                                             "--device", "cpu"};
            if (ckpt) args.push_back("--checkpoint-activations");
            test::RunResult r = test::run_aligners(args);
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            if (std::string(kind) == "sft") {  // (DPO's custom objective plans per sequence, as it runs)
                CHECK(r.err.find("memory plan: LlamaForCausalLM") != std::string::npos);
                CHECK((r.err.find("checkpointed: one block's set") != std::string::npos) == bool(ckpt));
            }
            model_bytes[ckpt] = read_file(path_join(out, "model.safetensors"));
        }
        CHECK(!model_bytes[0].empty());
        CHECK(model_bytes[0] == model_bytes[1]);
    }
}

}  // TEST_SUITE
