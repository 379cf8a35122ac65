// `aligners train-tokenizer`: byte-level BPE training (HF BpeTrainer
// semantics) writing DIR/tokenizer.json.
#include <chrono>
#include <cstdio>

#include <set>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/utf8.h"
#include "tokenizer/trainer.h"

namespace aligners::cli {

int cmd_train_tokenizer(int argc, char** argv) {
    ArgParser args("aligners train-tokenizer",
                   "Train a byte-level BPE tokenizer on text files and write DIR/tokenizer.json.");
    int64_t vocab_size = 0, min_frequency = 0;
    int threads = 0;
    std::string pattern, out;
    std::vector<std::string> specials, files;
    args.option("--vocab-size", &vocab_size, "N", "vocabulary size including special tokens and the 256 bytes",
                Range::between(256, 2147483647), true);
    args.choice("--pattern", &pattern, {"gpt2", "llama3", "qwen2"}, "pre-tokenization regex", true);
    args.repeated("--special", &specials, "TOKEN", "a special token (ids 0.. in the order given)");
    args.option("--min-frequency", &min_frequency, "N", "stop when the best pair occurs fewer than N times",
                ranges::non_negative());
    args.option("--out", &out, "DIR", "output directory (created; its tokenizer.json is replaced)", true);
    add_threads_flag(args, &threads);
    args.positionals("FILE", &files, "UTF-8 text files (read line by line)", 1);
    args.epilog("Example:\n  aligners train-tokenizer --vocab-size 4096 --pattern gpt2 --special '<|endoftext|>' \\\n"
                "      --out runs/tok corpus.txt\n");
    if (!args.parse(argc, argv)) return 0;
    std::set<std::string> seen;
    for (const auto& sp : specials) {
        if (sp.empty()) throw UsageError("--special: expected a token, got ''");
        if (!valid_utf8(sp)) throw UsageError("--special: expected UTF-8 text, got '" + utf8_lossy(sp) + "'");
        if (!seen.insert(sp).second) throw UsageError("--special: '" + sp + "' given more than once");
    }
    // The vocabulary holds at least every special token and the 256 bytes.
    int64_t least = 256 + int64_t(specials.size());
    if (vocab_size < least)
        throw UsageError("--vocab-size: expected at least " + std::to_string(least) + " (the 256 bytes + " +
                         std::to_string(specials.size()) + " special tokens), got " + std::to_string(vocab_size));
    apply_threads(threads);
    // Fail on an unusable --out now, not after the training.
    prepare_output_dir("--out", out);

    BpeTrainerOptions options;
    options.vocab_size = size_t(vocab_size);
    options.min_frequency = uint64_t(min_frequency);
    options.special_tokens = specials;
    options.pattern = pattern == "gpt2" ? tok::SplitPattern::Gpt2 : pattern == "llama3" ? tok::SplitPattern::Llama3
                                                                                       : tok::SplitPattern::Qwen2;
    auto start = std::chrono::steady_clock::now();
    Tokenizer tok = train_bpe(files, options);
    tok.save(out);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "wrote %s (%zu tokens) in %.1fs\n", path_join(out, "tokenizer.json").c_str(), tok.vocab_size(),
                 seconds);
    return 0;
}

}  // namespace aligners::cli
