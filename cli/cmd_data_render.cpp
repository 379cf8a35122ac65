// `aligners data render`: the exact training sequence of each Q-A-C record
// under an aligner template ({"text","ids","tokens","loss_mask"} per line),
// so a user can audit what `train aligner` trains on.
#include <cstdio>
#include <string>

#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "infer/codec.h"
#include "train/aligner_render.h"
#include "train/records.h"

namespace aligners::cli {

int data_render(int argc, char** argv) {
    ArgParser args("aligners data render",
                   "Print the exact aligner training sequence of each Q-A-C record: its text, token ids, "
                   "vocabulary entries and loss mask (1 where the loss counts).");
    std::string templ, tokenizer, input, output;
    args.choice("--template", &templ, {"ji", "ji2024", "ngweta"},
                "aligner template: ji (PKU paper-era), ji2024 (PKU ##Question/##Answer/##Correction), "
                "ngweta (x [INIT] y [ALIGNED] y' [DONE])",
                true);
    args.option("--tokenizer", &tokenizer, "DIR",
                "model or tokenizer directory (tokenizer.json or aligners_codec.json)", true);
    args.option("--input", &input, "QAC.jsonl", "Q-A-C records (gzip accepted)", true);
    args.option("--output", &output, "FILE", "write the JSON Lines here (atomically) instead of stdout");
    args.epilog(
        "The sequence is what `train aligner --template T` trains: the template's text tokenized jointly\n"
        "(BOS when the tokenizer adds one), EOS for ji/ji2024; the template's markers are added to the\n"
        "tokenizer first, as HF tokenizer.add_tokens does.\n\n"
        "Example:\n"
        "  aligners data render --template ji --tokenizer ../shared/tokenizers/mistral --input qac.jsonl\n");
    if (!args.parse(argc, argv)) return 0;

    train::AlignerTemplate t = train::template_by_name(templ);
    std::unique_ptr<infer::TokenCodec> codec = infer::load_codec(tokenizer);
    train::add_template_tokens(t, *codec);
    std::vector<train::QacRecord> records = train::read_qac_jsonl(input);
    std::vector<json::Value> lines;
    size_t merged = 0;
    for (const auto& r : records) {
        lines.push_back(train::render_training_sequence(t, *codec, r));
        if (lines.back().find("head_matches_prompt")) ++merged;
    }
    if (output.empty()) {
        std::string text;
        for (const auto& v : lines) {
            json::dump_to(text, v);
            text += '\n';
        }
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    } else {
        train::write_json_lines_atomic(output, lines);
    }
    std::fprintf(stderr, "data render (%s) %s: %zu records%s%s\n", templ.c_str(), input.c_str(), records.size(),
                 output.empty() ? "" : (" -> " + output).c_str(),
                 merged ? (", " + std::to_string(merged) +
                           " whose correction merged with the prompt's last token (head_matches_prompt false)")
                              .c_str()
                        : "");
    return 0;
}

}  // namespace aligners::cli
