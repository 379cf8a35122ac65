// `aligners train-tokenizer`: byte-level BPE training (HF BpeTrainer
// semantics) writing DIR/tokenizer.json.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "tokenizer/trainer.h"

namespace aligners::cli {

int cmd_train_tokenizer(int argc, char** argv) {
    ArgParser args("aligners train-tokenizer",
                   "Train a byte-level BPE tokenizer on text files and write DIR/tokenizer.json.");
    int64_t vocab_size = 0, min_frequency = 0;
    std::string pattern, out;
    std::vector<std::string> specials, files;
    args.option("--vocab-size", &vocab_size, "N", "vocabulary size including special tokens and the 256 bytes", true);
    args.choice("--pattern", &pattern, {"gpt2", "llama3", "qwen2"}, "pre-tokenization regex", true);
    args.repeated("--special", &specials, "TOKEN", "a special token (ids 0.. in the order given)");
    args.option("--min-frequency", &min_frequency, "N", "stop when the best pair occurs fewer than N times");
    args.option("--out", &out, "DIR", "output directory (created)", true);
    args.positionals("FILE", &files, "UTF-8 text files (read line by line)", 1);
    args.epilog("Example:\n  aligners train-tokenizer --vocab-size 4096 --pattern gpt2 --special '<|endoftext|>' \\\n"
                "      --out runs/tok corpus.txt\n");
    if (!args.parse(argc, argv)) return 0;
    if (vocab_size < 1) throw UsageError("--vocab-size: expected a positive integer");
    if (min_frequency < 0) throw UsageError("--min-frequency: expected a non-negative integer");

    BpeTrainerOptions options;
    options.vocab_size = size_t(vocab_size);
    options.min_frequency = uint64_t(min_frequency);
    options.special_tokens = specials;
    options.pattern = pattern == "gpt2" ? tok::SplitPattern::Gpt2 : pattern == "llama3" ? tok::SplitPattern::Llama3
                                                                                       : tok::SplitPattern::Qwen2;
    auto start = std::chrono::steady_clock::now();
    Tokenizer tok = train_bpe(files, options);
    make_dirs(out);
    tok.save(out);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "wrote %s (%zu tokens) in %.1fs\n", path_join(out, "tokenizer.json").c_str(), tok.vocab_size(),
                 seconds);
    return 0;
}

}  // namespace aligners::cli
