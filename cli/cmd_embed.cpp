// `aligners embed`: sentence embeddings from a model directory, pooled as
// sentence-transformers pools it (engine/embedder.h). {"text": ...} or
// {"ids": [...]} per input line, {"embedding": [...]} per output line, in
// input order.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/model_inputs.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/progress.h"
#include "engine/embedder.h"
#include "train/sentence_embedder.h"
#include "tokenizer/tokenizer.h"

namespace aligners::cli {

namespace {

void append_embedding(std::string& out, const std::vector<float>& e) {
    out += "{\"embedding\":[";
    char buf[32];
    for (size_t i = 0; i < e.size(); ++i) {
        int n = std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", double(e[i]));
        out.append(buf, size_t(n));
    }
    out += "]}\n";
}

}  // namespace

int cmd_embed(int argc, char** argv) {
    ArgParser args("aligners embed",
                   "Sentence embeddings: {\"text\": ...} or {\"ids\": [...]} lines -> {\"embedding\": [...]} lines, "
                   "pooled as the model directory says (modules.json, 1_Pooling/config.json).");
    std::string model_dir, input, output;
    int batch = 32, threads = 0;
    args.option("--model", &model_dir, "DIR",
                "HF model directory (BertModel/MiniLM or a decoder), with sentence-transformers' modules.json", true);
    args.option("--input", &input, "FILE", "JSONL: {\"text\": ...} or {\"ids\": [...]} per line", true);
    args.option("--output", &output, "FILE", "JSONL embeddings, one per input line (default: stdout)");
    args.option("--batch-size", &batch, "N", "sequences per forward pass", ranges::count());
    add_threads_flag(args, &threads);
    args.epilog(
        "example:\n"
        "  aligners embed --model ../shared/models/all-MiniLM-L6-v2 --input sentences.jsonl --output emb.jsonl\n");
    if (!args.parse(argc, argv)) return 0;
    if (!output.empty()) check_output_file("--output", output);
    apply_threads(threads);

    auto be = engine::make_cpu_backend();
    engine::Embedder emb(model_dir, *be);
    const int vocab = emb.model().config().vocab_size, max_tokens = emb.max_tokens();
    LazyTokenizer tok(model_dir);

    // Parse every line first: bad input fails before any work.
    std::vector<std::string> lines = read_lines(input);
    std::vector<ModelInput> inputs;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string where = input + " line " + std::to_string(i + 1);
        json::Value v;
        try {
            v = json::parse(lines[i]);
        } catch (const Error& e) {
            throw Error(where + ": " + e.what());
        }
        if (!v.is_object()) throw Error(where + ": expected a JSON object with \"text\" or \"ids\"");
        const json::Value* text = v.find("text");
        const json::Value* ids = v.find("ids");
        if ((text != nullptr) == (ids != nullptr))
            throw Error(where + ": expected exactly one of \"text\" and \"ids\"");
        ModelInput in{where, {}, {}};
        if (text) {
            if (!text->is_string()) throw Error(where + ": field 'text': expected a string");
            try {
                in.ids = train::encode_for_embedding(tok.get(), text->as_string(), max_tokens);
            } catch (const Error& e) {
                throw Error(where + ": " + e.what());
            }
        } else {
            in.ids = read_id_list(*ids, where, "ids", "token id", vocab);
            if (int64_t(in.ids.size()) > max_tokens)
                throw Error(where + ": field 'ids': " + std::to_string(in.ids.size()) +
                            " tokens, more than the model's limit of " + std::to_string(max_tokens));
        }
        if (in.ids.empty()) throw Error(where + ": no tokens to embed");
        inputs.push_back(std::move(in));
    }

    std::unique_ptr<AtomicFile> file;
    if (!output.empty()) file = std::make_unique<AtomicFile>(output);
    Progress bar("embed", int64_t(inputs.size()), "sentence");
    for (size_t w0 = 0; w0 < inputs.size(); w0 += kSortWindow) {
        const size_t w1 = std::min(inputs.size(), w0 + kSortWindow);
        std::vector<std::vector<float>> results(w1 - w0);
        for (const std::vector<size_t>& group : batches_by_length(inputs, w0, w1, size_t(batch))) {
            std::vector<std::vector<int32_t>> seqs;
            for (size_t i : group) seqs.push_back(inputs[i].ids);
            std::vector<std::vector<float>> e = emb.embed(seqs);
            for (size_t k = 0; k < group.size(); ++k) results[group[k] - w0] = std::move(e[k]);
            bar.update(int64_t(group.size()));
        }
        std::string out;
        for (const auto& e : results) append_embedding(out, e);
        if (file)
            file->write(out);
        else if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size())
            throw Error("stdout: write failed");
    }
    if (file) file->commit();
    bar.finish();
    return 0;
}

}  // namespace aligners::cli
