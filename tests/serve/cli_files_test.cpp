// Command-line conventions: --version/-V, the top-level help (exit codes,
// environment), '-' for stdin/stdout, outputs that are symlinks or stdout,
// and the criteria built into the binary (an installed copy works alone).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "common/fs.h"
#include "test_util.h"

using aligners::read_file;
using aligners::write_file_atomic;
namespace fs = std::filesystem;

TEST_SUITE("cli.files") {

TEST_CASE("--version and -V print the version") {
    for (const char* flag : {"--version", "-V", "version"}) {
        auto r = test::run_aligners({flag});
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("aligners 0.1.0\n", 0) == 0);
    }
}

TEST_CASE("top-level help lists exit codes and environment variables") {
    auto r = test::run_aligners({"--help"});
    CHECK(r.exit_code == 0);
    for (const char* want : {"exit status:", "  2    usage error", "  130  interrupted by SIGINT", "143 terminated by SIGTERM",
                             "ALIGNERS_THREADS", "ALIGNERS_CPU", "ALIGNERS_CRITERIA", "ALIGNERS_SHARED", "'-' is stdin",
                             "--version"})
        CHECK_MESSAGE(r.out.find(want) != std::string::npos, want);
}

TEST_CASE("data import: '-' for input and output, --out /dev/stdout into a pipe, a symlinked --out") {
    std::string dir = test::scratch_dir("cli_files_import");
    std::string jsonl = "{\"question\": \"Why is the sky blue?\"}\n{\"question\": \"What is rain?\"}\n";
    std::string want = "{\"question\":\"Why is the sky blue?\"}\n{\"question\":\"What is rain?\"}\n";
    auto r = test::run_aligners({"data", "import", "--format", "questions", "-", "--out", "-"}, jsonl);
    CHECK(r.exit_code == 0);
    CHECK(r.out == want);
    write_file_atomic(dir + "/q.jsonl", jsonl);
    // Our stdout is a pipe: before, /dev/stdout was "replaced" by a temp file rename and nothing came out.
    r = test::run_aligners({"data", "import", "--format", "questions", dir + "/q.jsonl", "--out", "/dev/stdout"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == want);
    // A symlinked output keeps its link and replaces the target.
    write_file_atomic(dir + "/target.jsonl", "old\n");
    fs::create_symlink("target.jsonl", dir + "/link.jsonl");
    r = test::run_aligners({"data", "import", "--format", "questions", dir + "/q.jsonl", "--out", dir + "/link.jsonl"});
    CHECK(r.exit_code == 0);
    CHECK(fs::is_symlink(dir + "/link.jsonl"));
    CHECK(read_file(dir + "/target.jsonl") == want);
    // A directory as --out: a clear error, exit 1.
    r = test::run_aligners({"data", "import", "--format", "questions", dir + "/q.jsonl", "--out", dir});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("is a directory") != std::string::npos);
}

TEST_CASE("tokenize and detokenize take --input/--out with '-' as the default") {
    std::string dir = test::scratch_dir("cli_files_tokenize");
    std::string tok = test::shared_dir() + "/tokenizers/gpt2";
    write_file_atomic(dir + "/in.jsonl", "{\"text\": \"Hello world\"}\n");
    auto r = test::run_aligners({"tokenize", "--tokenizer", tok, "--input", dir + "/in.jsonl", "--out", dir + "/ids.jsonl"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(read_file(dir + "/ids.jsonl") == "{\"ids\":[15496,995]}\n");
    r = test::run_aligners({"detokenize", "--tokenizer", tok, "--input", dir + "/ids.jsonl"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "{\"text\":\"Hello world\"}\n");
    r = test::run_aligners({"detokenize", "--tokenizer", tok, "--input", "-"}, "{\"ids\": [-1]}\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stdin line 1") != std::string::npos);
}

TEST_CASE("synth --criterion ethical works from a binary copied away from the source tree") {
    std::string dir = test::scratch_dir("cli_files_installed");
    std::string bin = dir + "/bin/aligners";
    fs::create_directories(dir + "/bin");
    fs::copy_file(test::aligners_bin(), bin);
    ::setenv("ALIGNERS_BIN", bin.c_str(), 1);
    write_file_atomic(dir + "/seeds.jsonl", "{\"question_type\": \"t\", \"topic\": \"x\", \"question\": \"q?\"}\n");
    auto r = test::run_aligners({"synth", "--model", dir + "/no-model", "--criterion", "ethical", "--seeds",
                                 dir + "/seeds.jsonl", "--out", dir + "/out"});
    auto unknown = test::run_aligners({"synth", "--model", dir + "/no-model", "--criterion", "kindness", "--seeds",
                                       dir + "/seeds.jsonl", "--out", dir + "/out"});
    ::unsetenv("ALIGNERS_BIN");
    // The criterion resolves (from the embedded copy); the run then fails on the missing model.
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--criterion") == std::string::npos);
    CHECK(r.err.find("no-model") != std::string::npos);
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("--criterion: 'kindness' is neither a file nor a built-in criterion (ethical, factuality, "
                           "helpfulness") != std::string::npos);
}

}  // TEST_SUITE
