#include "cli/train_flags.h"

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "weights/hf_config.h"

namespace aligners::cli {

int fit_to_positions(const ArgParser& args, const std::string& flag, int value, const std::string& model_dir) {
    ModelConfig mc;
    try {
        mc = load_model_config(model_dir);
    } catch (const Error&) {
        return value;
    }
    int max_pos = mc.max_position_embeddings;
    if (max_pos <= 0 || value <= max_pos) return value;
    if (!args.given(flag)) return max_pos;
    throw UsageError(flag + ": expected at most the model's " + std::to_string(max_pos) +
                     " positions (max_position_embeddings in " + path_join(model_dir, "config.json") + "), got " +
                     std::to_string(value));
}

bool already_trained(const char* what, const train::TrainerResult& r) {
    if (r.already_done)
        std::fprintf(stderr, "%s: %s is already trained with these settings (nothing to do)\n", what,
                     r.out_dir.c_str());
    return r.already_done;
}

const char* kResumeNote =
    "A killed run resumes from --out/checkpoint/ when started again with the same arguments; SIGINT/SIGTERM\n"
    "save a checkpoint at the next step and exit 130/143, printing the command that resumes. A finished run\n"
    "is not retrained; one with other settings or data is refused unless --overwrite. The summary file is\n"
    "written last: until it is there, --out is not a usable model. Metrics: --out/metrics.jsonl (one line\n"
    "per step and per evaluation).\n";

}  // namespace aligners::cli
