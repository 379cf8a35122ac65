// Every `aligners <command>` entry point. Each lives in cli/cmd_<name>.cpp,
// parses its own flags with ArgParser, and returns the process exit code
// (0 ok, 1 bad input, 2 usage error). Errors are thrown as aligners::Error /
// UsageError and turned into messages and exit codes by main().
#pragma once
#include <initializer_list>

namespace aligners::cli {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(int argc, char** argv);  // argv[0] is the command name
};

// The command table (cli/main.cpp), in the order `aligners --help` lists it.
const Command* commands(int* count);

// For commands made of subcommands (`aligners train aligner ...`): runs the
// one named by argv[1] with argv[1] as its argv[0]. Without a name, prints
// `usage` to stderr and returns 2; with --help/-h, prints it to stdout and
// returns 0; an unknown name is a UsageError listing the valid ones.
struct Subcommand {
    const char* name;
    int (*run)(int argc, char** argv);
};
int run_subcommand(int argc, char** argv, std::initializer_list<Subcommand> subs, const char* usage);

int cmd_version(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_data(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_squad(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_loop(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_detokenize(int argc, char** argv);
int cmd_train_tokenizer(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_plan(int argc, char** argv);

}  // namespace aligners::cli
