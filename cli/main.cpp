// `aligners`: one program, git-style subcommands. This file is only the
// dispatcher: find the command (and, for `data` and `train`, the
// subcommand), run it, turn errors into messages and exit codes. Each command's code is in cli/cmd_<name>.cpp.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/memory_plan.h"

namespace aligners::cli {

static const Command kCommands[] = {
    {"bench", "run a benchmark (gemm, tokenize, train, generate)", cmd_bench},
    {"embed", "sentence embeddings from a model directory (sentence-transformers pooling)", cmd_embed},
    {"classify", "class probabilities from a *ForSequenceClassification directory (BERT or decoder)", cmd_classify},
    {"tokenize", "encode JSON Lines text to token ids with a tokenizer.json", cmd_tokenize},
    {"detokenize", "decode JSON Lines token ids to text", cmd_detokenize},
    {"train-tokenizer", "train a byte-level BPE tokenizer (HF BpeTrainer semantics)", cmd_train_tokenizer},
    {"inspect", "show a safetensors file's or model directory's tensors and metadata", cmd_inspect},
    {"generate", "continue prompts with a Hugging Face causal LM (greedy or sampled)", cmd_generate},
    {"version", "print the version and build configuration", cmd_version},
    {"data", "import public datasets into Q-A-C, question and inspector records", cmd_data},
    {"synth", "generate synthetic Q-A-C and inspector data for a criterion with an LLM", cmd_synth},
    {"train", "fine-tune an aligner (answer corrector) or an inspector (alignment classifier)", cmd_train},
    {"squad", "correct answers with inspector-gated aligners (or one aligner, stacked)", cmd_squad},
    {"serve", "an OpenAI-compatible server whose answers a squad corrects", cmd_serve},
    {"eval", "misalignment before/after, alignment tax, edit ratios, judge win rates", cmd_eval},
    {"demo", "the whole pipeline on the embedded demo world (make run)", cmd_demo},
    {"loop", "multi-round alignment: upstream answers, squad corrections, DPO on the upstream", cmd_loop},
    {"plan", "memory per device for a model, shape and device count (weights, optimizer, activations, KV)", cmd_plan},
};

const Command* commands(int* count) {
    *count = int(sizeof kCommands / sizeof kCommands[0]);
    return kCommands;
}

int run_subcommand(int argc, char** argv, std::initializer_list<Subcommand> subs, const char* usage) {
    std::string sub = argc >= 2 ? argv[1] : "";
    for (const Subcommand& s : subs)
        if (sub == s.name) return s.run(argc - 1, argv + 1);
    if (sub.empty() || sub == "--help" || sub == "-h") {
        std::fputs(usage, sub.empty() ? stderr : stdout);
        return sub.empty() ? 2 : 0;
    }
    std::string names;
    for (const Subcommand& s : subs) names += (names.empty() ? "" : ", ") + std::string(s.name);
    throw UsageError("unknown subcommand '" + sub + "' (expected: " + names + ")");
}

// The command line that resumes an interrupted run: this one, shell-quoted,
// without --restart (which would throw the saved checkpoint away).
static std::string resume_command(int argc, char** argv) {
    std::string cmd;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--restart") continue;
        bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_=./:,+@%") == std::string::npos;
        if (!plain) {
            std::string q = "'";
            for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
            a = q + "'";
        }
        cmd += (cmd.empty() ? "" : " ") + a;
    }
    return cmd;
}

static void print_usage(FILE* out) {
    std::fprintf(out,
                 "usage: aligners <command> [options]\n\n"
                 "Decoupled LLM alignment: synthetic data, aligners, inspectors and squads on a\n"
                 "from-scratch C++/CUDA transformer engine.\n\ncommands:\n");
    int n = 0;
    const Command* cmds = commands(&n);
    for (int i = 0; i < n; ++i) std::fprintf(out, "  %-18s %s\n", cmds[i].name, cmds[i].summary);
    std::fprintf(out,
                 "\nRun 'aligners <command> --help' for a command's options; 'aligners --version' (-V) prints\n"
                 "the version.\n\n"
                 "files:\n"
                 "  '-' is stdin for an input and stdout for an output. Outputs are written atomically (temp\n"
                 "  file + rename); a symlink's target is replaced, not the link; stdout, pipes and devices\n"
                 "  are written into directly, never replaced. Inputs may be gzip-compressed (.gz).\n\n"
                 "exit status:\n"
                 "  0    success\n"
                 "  1    error (bad input file, field or value; the message names it)\n"
                 "  2    usage error (unknown command or flag, bad flag value)\n"
                 "  130  interrupted by SIGINT (Ctrl-C); 143 terminated by SIGTERM\n\n"
                 "environment:\n"
                 "  ALIGNERS_THREADS    default worker threads (default: the number of cores)\n"
                 "  ALIGNERS_CPU        force a CPU kernel path: avx512, avx2 or portable\n"
                 "  ALIGNERS_CRITERIA   a directory of criterion files (NAME.txt) for synth --criterion NAME,\n"
                 "                      searched before the built-in ethical, factuality, helpfulness\n"
                 "  ALIGNERS_SHARED     tests only: the shared data directory (default ../shared)\n");
}

}  // namespace aligners::cli

// ALIGNERS_REPORT_PEAK_RSS=1: the process's peak resident memory on stderr
// at the end of a command. VmHWM is this program's own (ru_maxrss of a
// spawned child also counts the parent's pages from before the exec), so
// the memory tests read it here.
static void report_peak_memory() {
    const char* on = std::getenv("ALIGNERS_REPORT_PEAK_RSS");
    if (!on || std::string(on) != "1") return;
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmHWM:", 6) == 0) std::fprintf(stderr, "aligners: peak resident memory:%s", line + 6);
    std::fclose(f);
}

int main(int argc, char** argv) {
    using namespace aligners;
    using namespace aligners::cli;
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(stdout);
        return 0;
    }
    if (name == "--version" || name == "-V") name = "version";
    int n = 0;
    const Command* cmds = commands(&n);
    for (int i = 0; i < n; ++i) {
        if (name != cmds[i].name) continue;
        try {
            // Commands that load models print their memory plan before allocating
            // (the demo's own summary stays uncluttered).
            engine::set_memory_report(name != "demo" && name != "plan" && name != "bench");
            int rc = cmds[i].run(argc - 1, argv + 1);
            report_peak_memory();
            return rc;
        } catch (const Interrupted& e) {
            std::fprintf(stderr, "aligners %s: %s\nresume with: %s\n", cmds[i].name, e.what(),
                         resume_command(argc, argv).c_str());
            return 128 + e.signal;
        } catch (const UsageError& e) {
            std::fprintf(stderr, "aligners %s: %s\n", cmds[i].name, e.what());
            return 2;
        } catch (const Error& e) {
            std::fprintf(stderr, "aligners %s: error: %s\n", cmds[i].name, e.what());
            return 1;
        } catch (const std::bad_alloc&) {
            // Allocations sized by input are checked where they happen and
            // name their file, field and size; one that reaches here is a bug.
            std::fprintf(stderr,
                         "aligners %s: internal error: out of memory in an allocation no check anticipated "
                         "(std::bad_alloc); please report the command and the sizes of its inputs\n",
                         cmds[i].name);
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "aligners %s: internal error: %s\n", cmds[i].name, e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "aligners: unknown command '%s'\n\n", name.c_str());
    print_usage(stderr);
    return 2;
}
