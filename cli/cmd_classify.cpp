// `aligners classify`: class probabilities from any *ForSequenceClassification
// directory (BERT encoders and the decoder families). {"text"} (encoders also
// {"text", "text_pair"}) or {"ids"} (encoders also "type_ids") per input
// line, {"probs": [...], "label": k} per output line, in input order.
//
// Texts are encoded as transformers' tokenizer(text, text_pair,
// truncation=True, max_length=positions) encodes them: special tokens from
// the post-processor, token types 0 then 1, longest_first truncation to the
// model's learned positions (RoPE models take any length).
#include <algorithm>
#include <climits>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/model_inputs.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/progress.h"
#include "engine/model.h"

namespace aligners::cli {

namespace {

void append_result(std::string& out, const float* probs, int n) {
    out += "{\"probs\":[";
    char buf[32];
    int label = 0;
    for (int k = 0; k < n; ++k) {
        int len = std::snprintf(buf, sizeof buf, "%s%.9g", k ? "," : "", double(probs[k]));
        out.append(buf, size_t(len));
        if (probs[k] > probs[label]) label = k;
    }
    out += "],\"label\":" + std::to_string(label) + "}\n";
}

// One input line -> ids (and type ids for models with token types).
ModelInput parse_input(const std::string& line, const std::string& where, const ModelConfig& c, int max_tokens,
                       LazyTokenizer& tok) {
    json::Value v;
    try {
        v = json::parse(line);
    } catch (const Error& e) {
        throw Error(where + ": " + e.what());
    }
    if (!v.is_object()) throw Error(where + ": expected a JSON object with \"text\" or \"ids\"");
    const json::Value* text = v.find("text");
    const json::Value* pair = v.find("text_pair");
    const json::Value* ids = v.find("ids");
    const json::Value* types = v.find("type_ids");
    if ((text != nullptr) == (ids != nullptr)) throw Error(where + ": expected exactly one of \"text\" and \"ids\"");
    const bool typed = c.type_vocab_size > 0;
    if ((pair || types) && !typed)
        throw Error(where + ": field '" + (pair ? "text_pair" : "type_ids") + "': only for encoders with token types; " +
                    c.architecture + " has none (give one \"text\" or \"ids\")");
    ModelInput in{where, {}, {}};
    if (text) {
        if (types) throw Error(where + ": field 'type_ids': only with \"ids\" (texts get theirs from the tokenizer)");
        if (!text->is_string()) throw Error(where + ": field 'text': expected a string, got " + json::dump(*text));
        if (pair && !pair->is_string())
            throw Error(where + ": field 'text_pair': expected a string, got " + json::dump(*pair));
        const size_t max_length = max_tokens == INT_MAX ? 0 : size_t(max_tokens);
        Encoding e;
        try {
            e = pair ? tok.get().encode_pair(text->as_string(), pair->as_string(), true, max_length)
                     : tok.get().encode_typed(text->as_string(), true, max_length);
        } catch (const Error& err) {
            throw Error(where + ": " + err.what());
        }
        in.ids = std::move(e.ids);
        if (typed) in.type_ids = std::move(e.type_ids);
        for (int32_t id : in.ids)
            if (id < 0 || id >= c.vocab_size)
                throw Error(where + ": the tokenizer gave id " + std::to_string(id) + ", outside the model's vocabulary of " +
                            std::to_string(c.vocab_size));
    } else {
        if (pair) throw Error(where + ": field 'text_pair': only with \"text\"");
        in.ids = read_id_list(*ids, where, "ids", "token id", c.vocab_size);
        if (types) {
            in.type_ids = read_id_list(*types, where, "type_ids", "token type", c.type_vocab_size);
            if (in.type_ids.size() != in.ids.size())
                throw Error(where + ": field 'type_ids': " + std::to_string(in.type_ids.size()) + " values for " +
                            std::to_string(in.ids.size()) + " ids, expected one per id");
        }
        if (int64_t(in.ids.size()) > max_tokens)
            throw Error(where + ": field 'ids': " + std::to_string(in.ids.size()) +
                        " tokens, more than the model's limit of " + std::to_string(max_tokens));
    }
    if (in.ids.empty()) throw Error(where + ": no tokens to classify");
    return in;
}

}  // namespace

int cmd_classify(int argc, char** argv) {
    ArgParser args("aligners classify",
                   "Class probabilities from a *ForSequenceClassification directory: {\"text\": ...} "
                   "({\"text\", \"text_pair\"} for encoders) or {\"ids\": [...]} lines -> {\"probs\": [...], "
                   "\"label\": k} lines.");
    std::string model_dir, input, output = "-";
    int batch = 16, threads = 0;
    args.option("--model", &model_dir, "DIR",
                "HF *ForSequenceClassification directory (BERT/MiniLM, GPT-2, Llama, Mistral, Qwen2/3)", true);
    args.option("--input", &input, "FILE",
                "JSONL (- = stdin): {\"text\"}, {\"text\", \"text_pair\"} (encoders), or {\"ids\"} with optional "
                "\"type_ids\"",
                true);
    args.option("--output", &output, "FILE", "JSONL results, one per input line (written atomically; - = stdout)");
    args.set_default_text("--output", "-");
    args.option("--batch-size", &batch, "N", "sequences per forward pass", ranges::count());
    std::string device, attention;
    add_device_flag(args, &device, &attention);
    add_threads_flag(args, &threads);
    args.epilog(
        "Texts get the tokenizer's special tokens; pairs are encoded as [CLS] A [SEP] B [SEP] with token types,\n"
        "cut to the model's positions as transformers' truncation=True (longest_first) cuts them.\n"
        "example:\n"
        "  echo '{\"text\": \"Is it safe?\", \"text_pair\": \"Yes.\"}' | aligners classify --model INSPECTOR_DIR --input -\n");
    if (!args.parse(argc, argv)) return 0;
    check_output_file("--output", output);
    apply_threads(threads);

    ModelConfig c = load_model_config(model_dir);
    if (!c.seq_cls)
        throw Error(path_join(model_dir, "config.json") + ": architecture '" + c.architecture +
                    "' is not a sequence classifier (expected a *ForSequenceClassification model)");
    const int max_tokens = c.learned_positions ? c.max_position_embeddings : INT_MAX;
    LazyTokenizer tok(model_dir);

    // Parse every line first: bad input fails before any model work.
    std::vector<std::string> lines = read_lines(input);
    const std::string name = input == "-" ? "<stdin>" : input;
    std::vector<ModelInput> inputs;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
        inputs.push_back(parse_input(lines[i], name + " line " + std::to_string(i + 1), c, max_tokens, tok));
    }

    auto be = select_backend(device, attention);
    auto model = engine::Model::load(model_dir, *be, /*training=*/false);
    const int n = model->config().num_labels;
    const int32_t pad = std::max(c.pad_token_id, 0);
    AtomicFile file(output);
    Progress bar("classify", int64_t(inputs.size()), "sequence");
    for (size_t w0 = 0; w0 < inputs.size(); w0 += kSortWindow) {
        const size_t w1 = std::min(inputs.size(), w0 + kSortWindow);
        std::vector<float> probs((w1 - w0) * size_t(n));
        for (const std::vector<size_t>& group : batches_by_length(inputs, w0, w1, size_t(batch))) {
            std::vector<std::vector<int32_t>> seqs, types;
            for (size_t i : group) {
                seqs.push_back(inputs[i].ids);
                types.push_back(inputs[i].type_ids);
            }
            engine::Batch b = engine::Batch::from_typed_sequences(seqs, types, pad);
            model->forward(b);
            std::vector<float> p = model->class_probs();
            for (size_t k = 0; k < group.size(); ++k)
                std::copy(p.begin() + ptrdiff_t(k * n), p.begin() + ptrdiff_t((k + 1) * n),
                          probs.begin() + ptrdiff_t((group[k] - w0) * n));
            bar.update(int64_t(group.size()));
        }
        std::string out;
        for (size_t i = 0; i < w1 - w0; ++i) append_result(out, probs.data() + i * size_t(n), n);
        file.write(out);
    }
    file.commit();
    bar.finish();
    return 0;
}

}  // namespace aligners::cli
