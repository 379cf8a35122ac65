// Flags across every command (build/aligners): the same range and the same
// message for a kind of flag wherever it appears, the flag that was wrong
// named, values quoted as written, and bad values or unusable outputs
// refused before any work. Each case gives the command arguments that would
// fail *later* (a missing model, a missing input) if the flag were accepted,
// so the exit code and message prove where it failed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/thread_pool.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

namespace {

using Args = std::vector<std::string>;

Args operator+(Args a, const Args& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Runs the command and checks it is refused as bad usage with `expected` in
// the message.
void refused(const Args& args, const std::string& expected) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    CAPTURE(cmd);
    auto r = test::run_aligners(args);
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
}

// The commands that compute, each with arguments that get past parsing and
// then fail fast (nothing there to load): a command that skipped a check
// would exit 1 with another message instead of 2.
std::vector<Args> computing_commands(const std::string& dir) {
    return {
        {"train", "aligner", "--model", dir + "/none", "--data", dir + "/none.jsonl", "--out", dir + "/o1"},
        {"train", "inspector", "--model", dir + "/none", "--data", dir + "/none.jsonl", "--out", dir + "/o2"},
        {"squad", "--aligner", dir + "/none", "--input", dir + "/none.jsonl", "--out", dir + "/o3.jsonl"},
        {"eval", "--input", dir + "/none.jsonl", "--judge", dir + "/none"},
        {"synth", "--model", dir + "/none", "--criterion", dir + "/none.txt", "--seeds", dir + "/s.jsonl", "--out",
         dir + "/o4"},
        {"generate", "--model", dir + "/none", "--prompt-ids", "1,2"},
        {"train-tokenizer", "--vocab-size", "300", "--pattern", "gpt2", "--out", dir + "/o5", dir + "/none.txt"},
        {"demo", "--quick", "--out", "/dev/null/demo"},
        {"bench", "gemm", "--m", "1", "--n", "1", "--k", "1", "--reps", "1", "--path", "portable"},
        {"bench", "train", "--layers", "1", "--heads", "1", "--dim", "8", "--vocab", "8", "--seq", "2", "--batch", "1",
         "--steps", "1", "--warmup", "0"},
        {"bench", "generate", "--layers", "1", "--heads", "1", "--dim", "8", "--vocab", "8", "--prompt", "2",
         "--new-tokens", "2", "--reps", "1"},
        {"bench", "tokenize", "--tokenizer", dir + "/none", dir + "/none.txt"},
        {"embed", "--model", dir + "/none", "--input", dir + "/none.jsonl"},
        {"classify", "--model", dir + "/none", "--input", dir + "/none.jsonl"},
    };
}

// Sets an environment variable for the scope (children inherit it).
struct ScopedEnv {
    std::string name, old;
    bool had;
    ScopedEnv(const std::string& n, const std::string& value) : name(n), had(std::getenv(n.c_str()) != nullptr) {
        if (had) old = std::getenv(n.c_str());
        setenv(n.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (had) setenv(name.c_str(), old.c_str(), 1);
        else unsetenv(name.c_str());
    }
};

}  // namespace

TEST_SUITE("cli.flags") {

TEST_CASE("--threads is bounded to [1, 4 x cores] in every command that computes; so is ALIGNERS_THREADS") {
    std::string dir = test::scratch_dir("cli_flags_threads");
    // One above the bound (not 100000: a regressed binary would then try to
    // start that many threads; the parse-level test in args_test.cpp uses it).
    std::string max = std::to_string(ThreadPool::max_threads());
    std::string above = std::to_string(ThreadPool::max_threads() + 1);
    for (const Args& cmd : computing_commands(dir)) {
        refused(cmd + Args{"--threads", above},
                "--threads: expected an integer in [1, " + max + "] (at most 4 x the " +
                    std::to_string(ThreadPool::max_threads() / 4) + " hardware thread");
        refused(cmd + Args{"--threads", "-1"}, "got '-1'");
        refused(cmd + Args{"--threads", "0"}, "got '0'");
        refused(cmd + Args{"--threads", "many"}, "--threads: expected an integer, got 'many'");
        ScopedEnv env("ALIGNERS_THREADS", "abc");
        refused(cmd, "ALIGNERS_THREADS: expected an integer, got 'abc'");
    }
    ScopedEnv env("ALIGNERS_THREADS", above);
    refused(computing_commands(dir)[0], "ALIGNERS_THREADS: expected an integer in [1, " + max + "]");
}

TEST_CASE("sampling flags: one range each, the same in squad, synth and generate") {
    std::string dir = test::scratch_dir("cli_flags_sampling");
    std::vector<Args> samplers = {
        {"squad", "--aligner", dir + "/none", "--input", dir + "/none.jsonl", "--out", dir + "/o.jsonl"},
        {"synth", "--model", dir + "/none", "--criterion", dir + "/none.txt", "--seeds", dir + "/s.jsonl", "--out",
         dir + "/o"},
        {"generate", "--model", dir + "/none", "--prompt-ids", "1,2", "--sample"},
    };
    for (const Args& cmd : samplers) {
        refused(cmd + Args{"--temperature", "-1"}, "--temperature: expected a number >= 0, got '-1'");
        refused(cmd + Args{"--top-p", "2"}, "--top-p: expected a number in (0, 1], got '2'");
        refused(cmd + Args{"--top-p", "0"}, "--top-p: expected a number in (0, 1], got '0'");
        refused(cmd + Args{"--top-k", "-1"}, "--top-k: expected an integer >= 0, got '-1'");
        refused(cmd + Args{"--repetition-penalty", "0"}, "--repetition-penalty: expected a number > 0, got '0'");
        // Temperature 0 is greedy decoding everywhere: accepted, then the
        // missing model is what fails.
        auto r = test::run_aligners(cmd + Args{"--temperature", "0"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("none") != std::string::npos);
    }
}

TEST_CASE("squad: each token budget names its own flag; batch size and stack are counts") {
    std::string dir = test::scratch_dir("cli_flags_squad");
    Args squad = {"squad", "--aligner", dir + "/none", "--input", dir + "/none.jsonl", "--out", dir + "/o.jsonl"};
    refused(squad + Args{"--upstream-max-new-tokens", "0"},
            "--upstream-max-new-tokens: expected an integer >= 1, got '0'");
    auto r = test::run_aligners(squad + Args{"--upstream-max-new-tokens", "0"});
    CHECK(r.err.find("--max-new-tokens") == std::string::npos);  // never the other flag
    refused(squad + Args{"--max-new-tokens", "0"}, "--max-new-tokens: expected an integer >= 1, got '0'");
    refused(squad + Args{"--max-new-tokens", "1000000000000000"}, "got '1000000000000000'");
    refused(squad + Args{"--batch-size", "0"}, "--batch-size: expected an integer >= 1, got '0'");
    refused(squad + Args{"--batch-size", "-1"}, "--batch-size: expected an integer >= 1, got '-1'");
    refused(squad + Args{"--stack", "0"}, "--stack: expected an integer >= 1, got '0'");
    // The squad file's counts too: checked in 64 bits, the value quoted.
    write_file_atomic(dir + "/s.json", R"({"criteria": [{"name": "a", "aligner": "x", "inspector": "y"}],
                                           "batch_size": 1000000000000000})");
    r = test::run_aligners({"squad", "--squad", dir + "/s.json", "--input", dir + "/none.jsonl", "--out",
                            dir + "/o.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("s.json: field 'batch_size': expected an integer in [1, 2147483647], got 1000000000000000") !=
          std::string::npos);
}

TEST_CASE("synth: counts and cleaning bounds") {
    std::string dir = test::scratch_dir("cli_flags_synth");
    Args synth = {"synth", "--model", dir + "/none", "--criterion", dir + "/none.txt", "--seeds", dir + "/s.jsonl",
                  "--out", dir + "/o"};
    refused(synth + Args{"--rounds", "-1"}, "--rounds: expected an integer >= 0, got '-1'");
    refused(synth + Args{"--batch-size", "0"}, "--batch-size: expected an integer >= 1, got '0'");
    refused(synth + Args{"--max-new-tokens", "0"}, "--max-new-tokens: expected an integer >= 1, got '0'");
    refused(synth + Args{"--max-questions", "-1"}, "--max-questions: expected an integer >= 0, got '-1'");
    refused(synth + Args{"--min-chars", "10", "--max-chars", "5"}, "--max-chars: expected at least --min-chars (10)");
}

TEST_CASE("train: optimizer settings are refused up front, not as a NaN loss or a JSON error later") {
    std::string dir = test::scratch_dir("cli_flags_train");
    for (const char* kind : {"aligner", "inspector"}) {
        Args train = {"train", kind, "--model", dir + "/none", "--data", dir + "/none.jsonl", "--out", dir + "/o"};
        refused(train + Args{"--lr", "1e30"}, "--lr: expected a number in (0, 1], got '1e30'");
        refused(train + Args{"--lr", "0"}, "--lr: expected a number in (0, 1], got '0'");
        refused(train + Args{"--lr", "-1e-3"}, "--lr: expected a number in (0, 1], got '-1e-3'");
        refused(train + Args{"--beta1", "1"}, "--beta1: expected a number in [0, 1), got '1'");
        refused(train + Args{"--beta2", "1"}, "--beta2: expected a number in [0, 1), got '1'");
        refused(train + Args{"--beta2", "-0.1"}, "--beta2: expected a number in [0, 1), got '-0.1'");
        refused(train + Args{"--warmup-ratio", "5"}, "--warmup-ratio: expected a number in [0, 1], got '5'");
        refused(train + Args{"--weight-decay", "-1"}, "--weight-decay: expected a number >= 0, got '-1'");
        refused(train + Args{"--max-grad-norm", "-1"}, "--max-grad-norm: expected a number >= 0, got '-1'");
        refused(train + Args{"--batch-size", "0"}, "--batch-size: expected an integer >= 1, got '0'");
        refused(train + Args{"--batch-size", "-1"}, "--batch-size: expected an integer >= 1, got '-1'");
        refused(train + Args{"--epochs", "0"}, "--epochs: expected an integer >= 1, got '0'");
        refused(train + Args{"--grad-accum", "0"}, "--grad-accum: expected an integer >= 1, got '0'");
        refused(train + Args{"--eval-fraction", "1"}, "--eval-fraction: expected a number in [0, 1), got '1'");
        refused(train + Args{"--max-steps", "-1"}, "--max-steps: expected an integer >= 0, got '-1'");
        refused(train + Args{"--checkpoint-every", "-5"}, "--checkpoint-every: expected an integer >= 0, got '-5'");
        refused(train + Args{"--epochs", "1000000000000000"},
                "--epochs: expected an integer in [-2147483648, 2147483647], got '1000000000000000'");
    }
    refused({"train", "aligner", "--model", dir + "/none", "--data", dir + "/none.jsonl", "--out", dir + "/o",
             "--warmup-fraction", "1.5"},
            "--warmup-fraction: expected a number in [0, 1], got '1.5'");
}

TEST_CASE("train: --seq-len and --max-tokens must fit the model's positions") {
    std::string dir = test::scratch_dir("cli_flags_positions");
    std::string base = test::make_tiny_model(dir + "/base", 1);  // max_position_embeddings 512
    write_file_atomic(dir + "/none.jsonl", "");
    refused({"train", "aligner", "--model", base, "--data", dir + "/none.jsonl", "--out", dir + "/o", "--seq-len",
             "1024"},
            "--seq-len: expected at most the model's 512 positions (max_position_embeddings in " + base +
                "/config.json), got 1024");
    refused({"train", "inspector", "--model", base, "--data", dir + "/none.jsonl", "--out", dir + "/o",
             "--max-tokens", "513"},
            "--max-tokens: expected at most the model's 512 positions");
    // Within the positions, the data is what fails (empty).
    auto r = test::run_aligners(
        {"train", "aligner", "--model", base, "--data", dir + "/none.jsonl", "--out", dir + "/o", "--seq-len", "512"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("none.jsonl") != std::string::npos);
}

TEST_CASE("generate: token ids are read in 64 bits and quoted as written; counts are checked") {
    std::string dir = test::scratch_dir("cli_flags_generate");
    Args gen = {"generate", "--model", dir + "/none"};
    auto r = test::run_aligners(gen + Args{"--prompt-ids", "1000000000000000"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--prompt-ids: token id: expected an integer in [0, 2147483647], got '1000000000000000'") !=
          std::string::npos);
    CHECK(r.err.find("-1530494976") == std::string::npos);
    refused(gen + Args{"--prompt-ids", "1,-2"}, "--prompt-ids: token id: expected an integer in [0, 2147483647], got '-2'");
    refused(gen + Args{"--prompt-ids", "1,x"}, "--prompt-ids: token id: expected an integer, got 'x'");
    refused(gen + Args{"--prompt-ids", "1", "--stop-ids", "99999999999"}, "--stop-ids: token id");
    refused(gen + Args{"--prompt-ids", "1", "--batch", "0"}, "--batch: expected an integer >= 1, got '0'");
    refused(gen + Args{"--prompt-ids", "1", "--max-new-tokens", "-1"},
            "--max-new-tokens: expected an integer >= 0, got '-1'");
}

TEST_CASE("eval --out and generate --output that cannot be written fail before the work") {
    std::string dir = test::scratch_dir("cli_flags_outputs");
    write_file_atomic(dir + "/in.jsonl", "{\"question\":\"q\",\"answer\":\"a\",\"final_answer\":\"b\"}\n");
    // Before: the judge was loaded and every sample scored, then the write
    // failed. Now the missing judge is never reached.
    auto r = test::run_aligners(
        {"eval", "--input", dir + "/in.jsonl", "--judge", dir + "/nomodel", "--out", "/missing/dir/r.json"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--out: cannot write '/missing/dir/r.json': directory '/missing/dir' does not exist") !=
          std::string::npos);
    CHECK(r.err.find("nomodel") == std::string::npos);
    r = test::run_aligners({"eval", "--input", dir + "/in.jsonl", "--judge", dir + "/nomodel", "--out", dir});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--out: '" + dir + "' is a directory") != std::string::npos);
    // An --inspector threshold is checked before the inputs are read.
    r = test::run_aligners({"eval", "--input", dir + "/missing.jsonl", "--inspector", "a=" + dir + "@1.5"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("threshold: expected a number in [0, 1], got '1.5'") != std::string::npos);

    r = test::run_aligners({"generate", "--model", dir + "/nomodel", "--prompt-ids", "1", "--output",
                            "/missing/dir/out.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--output: cannot write '/missing/dir/out.jsonl'") != std::string::npos);
    r = test::run_aligners({"squad", "--aligner", dir + "/nomodel", "--input", dir + "/in.jsonl", "--out",
                            "/missing/dir/o.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--out: cannot write '/missing/dir/o.jsonl'") != std::string::npos);
    r = test::run_aligners({"data", "import", "--format", "questions", dir + "/missing.jsonl", "--out",
                            "/missing/dir/q.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--out: cannot write '/missing/dir/q.jsonl'") != std::string::npos);
}

TEST_CASE("train-tokenizer: vocabulary below the byte alphabet, empty or repeated specials, --out a file") {
    std::string dir = test::scratch_dir("cli_flags_train_tokenizer");
    std::string corpus = dir + "/corpus.txt";
    write_file_atomic(corpus, "the quick brown fox\n");
    Args tt = {"train-tokenizer", "--pattern", "gpt2"};
    refused(tt + Args{"--vocab-size", "100", "--out", dir + "/t", corpus},
            "--vocab-size: expected an integer in [256, 2147483647], got '100'");
    refused(tt + Args{"--vocab-size", "256", "--special", "<s>", "--out", dir + "/t", corpus},
            "--vocab-size: expected at least 257 (the 256 bytes + 1 special tokens), got 256");
    refused(tt + Args{"--vocab-size", "300", "--special", "", "--out", dir + "/t", corpus},
            "--special: expected a token, got ''");
    refused(tt + Args{"--vocab-size", "300", "--special", "<s>", "--special", "<s>", "--out", dir + "/t", corpus},
            "--special: '<s>' given more than once");
    // --out naming an existing file: refused before reading the corpus (a
    // missing one here), and the file is left as it was.
    write_file_atomic(dir + "/existing", "keep me");
    auto r = test::run_aligners(tt + Args{"--vocab-size", "300", "--out", dir + "/existing", dir + "/missing.txt"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--out: '" + dir + "/existing' exists and is not a directory") != std::string::npos);
    CHECK(read_file(dir + "/existing") == "keep me");
    // The smallest vocabulary is exactly the bytes and the specials.
    r = test::run_aligners(tt + Args{"--vocab-size", "257", "--special", "<s>", "--out", dir + "/t", corpus});
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("(257 tokens)") != std::string::npos);
}

TEST_CASE("demo --set values follow the flag rules: 64-bit integers quoted as written, learning rates, shares") {
    Args demo = {"demo", "--quick", "--out", "/dev/null/demo"};
    refused(demo + Args{"--set", "pretrain_steps=1000000000000000"},
            "--set pretrain_steps: expected an integer in [0, 2147483647], got '1000000000000000'");
    refused(demo + Args{"--set", "pretrain_steps=-1"}, "--set pretrain_steps: expected an integer in [0, 2147483647]");
    refused(demo + Args{"--set", "pretrain_lr=1e30"}, "--set pretrain_lr: expected a number in (0, 1], got '1e30'");
    refused(demo + Args{"--set", "aligner_lr=0"}, "--set aligner_lr: expected a number in (0, 1], got '0'");
    refused(demo + Args{"--set", "drill_share=2"}, "--set drill_share: expected a number in [0, 1], got '2'");
    refused(demo + Args{"--seed", "-1"}, "--seed: expected an integer >= 0, got '-1'");
}

TEST_CASE("bench sizes name the flag that is wrong") {
    refused({"bench", "train", "--layers", "0"}, "--layers: expected an integer >= 1, got '0'");
    refused({"bench", "train", "--seq", "-4"}, "--seq: expected an integer >= 1, got '-4'");
    refused({"bench", "generate", "--new-tokens", "1"}, "--new-tokens: expected an integer >= 2, got '1'");
    refused({"bench", "generate", "--vocab", "1"}, "--vocab: expected an integer >= 2, got '1'");
    refused({"bench", "gemm", "--m", "0"}, "--m: expected an integer >= 1, got '0'");
    refused({"bench", "tokenize", "--tokenizer", "t", "--repeat", "0", "f"}, "--repeat: expected an integer >= 1, got '0'");
}

TEST_CASE("a JSON Lines syntax error names its line once") {
    std::string dir = test::scratch_dir("cli_flags_jsonl");
    write_file_atomic(dir + "/bad.jsonl", "{\"question\":\"q\",\"answer\":\"a\",\"final_answer\":\"b\"}\n{\"question\": }\n");
    auto r = test::run_aligners({"eval", "--input", dir + "/bad.jsonl", "--judge", dir + "/j"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bad.jsonl:2: not valid JSON: column 14 (byte 13)") != std::string::npos);
    CHECK(r.err.find("line 1,") == std::string::npos);
    r = test::run_aligners({"tokenize", "--tokenizer", test::shared_dir() + "/tokenizers/gpt2"}, "nope\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stdin line 1: not valid JSON: column 1 (byte 0)") != std::string::npos);
    CHECK(r.err.find("line 1, column") == std::string::npos);
    write_file_atomic(dir + "/bench.jsonl", "{\"text\": \"a\"}\n{\"text\" 1}\n");
    r = test::run_aligners({"bench", "tokenize", "--tokenizer", test::shared_dir() + "/tokenizers/gpt2", "--repeat", "1",
                            dir + "/bench.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bench.jsonl:2: not valid JSON: column 9 (byte 8)") != std::string::npos);
    CHECK(r.err.find("line 1, column") == std::string::npos);
}

}  // TEST_SUITE
