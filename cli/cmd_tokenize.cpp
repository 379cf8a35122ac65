// `aligners tokenize` and `aligners detokenize`: JSON Lines in (stdin, or
// --input FILE), one JSON line out per input line, in order (stdout, or
// --out FILE written atomically).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "tokenizer/tokenizer.h"

namespace aligners::cli {

namespace {

// Non-blank lines of `data` (split on '\n' only: strings may contain U+2028),
// with their 1-based line numbers.
std::vector<std::pair<size_t, std::string_view>> input_lines(const std::string& data) {
    std::vector<std::pair<size_t, std::string_view>> lines;
    size_t number = 0;
    for (size_t pos = 0; pos < data.size();) {
        size_t end = data.find('\n', pos);
        if (end == std::string::npos) end = data.size();
        ++number;
        std::string_view line(data.data() + pos, end - pos);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back({number, line});
        pos = end + 1;
    }
    return lines;
}

std::string where(const std::string& input, size_t number) {
    return (is_stdio(input) ? std::string("stdin") : input) + " line " + std::to_string(number);
}

json::Value parse_line(const std::string& input, size_t number, std::string_view line) {
    try {
        json::Value v = json::parse(line);
        if (!v.is_object()) throw Error("expected a JSON object");
        return v;
    } catch (const json::ParseError& e) {
        throw Error("stdin line " + std::to_string(number) + ": not valid JSON: " + json::jsonl_error(e));
    } catch (const Error& e) {
        throw Error(where(input, number) + ": " + e.what());
    }
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
    ArgParser args("aligners tokenize",
                   "Encode text to token ids: {\"text\": ...} lines on stdin -> {\"ids\": [...]} lines; a line with\n"
                   "\"text_pair\" too is encoded as a pair (e.g. BERT's [CLS] A [SEP] B [SEP]) -> {\"ids\", \"type_ids\"}.");
    std::string path;
    bool add_special = false;
    args.option("--tokenizer", &path, "PATH",
                "tokenizer.json, a model directory, a GPT-2 encoder.json+vocab.bpe or a BERT vocab.txt directory", true);
    args.flag("--add-special-tokens", &add_special, "apply the post-processor (e.g. BOS/EOS, [CLS]/[SEP])");
    std::string input = "-", out = "-";
    args.option("--input", &input, "FILE", "JSON Lines to encode (default -: stdin)");
    args.option("--out", &out, "FILE", "where the ids go (default -: stdout)");
    args.epilog("Examples:\n  echo '{\"text\": \"Hello world\"}' | aligners tokenize --tokenizer ../shared/tokenizers/gpt2\n"
                "  echo '{\"text\": \"Is it?\", \"text_pair\": \"Yes.\"}' | aligners tokenize --add-special-tokens \\\n"
                "      --tokenizer ../shared/models/all-MiniLM-L6-v2\n");
    if (!args.parse(argc, argv)) return 0;

    Tokenizer tok = Tokenizer::load(path);
    std::string data = read_file(input);
    auto lines = input_lines(data);
    std::vector<std::string> texts, pair_texts, pairs;
    std::vector<std::pair<bool, size_t>> order;  // (is a pair, index in texts or pair_texts)
    for (const auto& [number, line] : lines) {
        json::Value v = parse_line(input, number, line);
        const json::Value* text = v.find("text");
        if (!text || !text->is_string()) throw Error(where(input, number) + ": expected {\"text\": \"...\"}");
        const json::Value* pair = v.find("text_pair");
        if (pair && !pair->is_string())
            throw Error(where(input, number) + ": \"text_pair\" must be a string, got " + json::dump(*pair));
        if (pair) {
            order.push_back({true, pair_texts.size()});
            pair_texts.push_back(text->as_string());
            pairs.push_back(pair->as_string());
        } else {
            order.push_back({false, texts.size()});
            texts.push_back(text->as_string());
        }
    }
    std::vector<std::vector<TokenId>> ids = tok.encode_batch(texts, add_special);
    std::vector<Encoding> pair_ids = tok.encode_pair_batch(pair_texts, pairs, add_special);
    std::string text_out;
    auto append_list = [&](const char* key, const std::vector<TokenId>& seq) {
        text_out += key;
        text_out += "[";
        for (size_t i = 0; i < seq.size(); ++i) {
            if (i) text_out += ',';
            text_out += std::to_string(seq[i]);
        }
        text_out += "]";
    };
    for (const auto& [is_pair, i] : order) {
        if (is_pair) {
            append_list("{\"ids\":", pair_ids[i].ids);
            append_list(",\"type_ids\":", pair_ids[i].type_ids);
        } else {
            append_list("{\"ids\":", ids[i]);
        }
        text_out += "}\n";
    }
    write_file_atomic(out, text_out);
    return 0;
}

int cmd_detokenize(int argc, char** argv) {
    ArgParser args("aligners detokenize", "Decode token ids to text: {\"ids\": [...]} lines on stdin -> {\"text\": ...} lines.");
    std::string path;
    bool skip_special = false;
    args.option("--tokenizer", &path, "PATH",
                "tokenizer.json, a model directory, a GPT-2 encoder.json+vocab.bpe or a BERT vocab.txt directory", true);
    args.flag("--skip-special-tokens", &skip_special, "leave out special tokens (BOS, EOS, ...)");
    std::string input = "-", out = "-";
    args.option("--input", &input, "FILE", "JSON Lines to decode (default -: stdin)");
    args.option("--out", &out, "FILE", "where the text goes (default -: stdout)");
    if (!args.parse(argc, argv)) return 0;

    Tokenizer tok = Tokenizer::load(path);
    std::string data = read_file(input);
    std::string text_out;
    std::vector<TokenId> ids;
    for (const auto& [number, line] : input_lines(data)) {
        json::Value v = parse_line(input, number, line);
        const json::Value* list = v.find("ids");
        if (!list || !list->is_array()) throw Error(where(input, number) + ": expected {\"ids\": [...]}");
        ids.clear();
        for (const json::Value& id : list->as_array()) {
            if (!id.is_int() || id.as_int() < 0 || id.as_int() > INT32_MAX)
                throw Error(where(input, number) + ": ids must be non-negative integers");
            ids.push_back(TokenId(id.as_int()));
        }
        text_out += "{\"text\":";
        json::dump_string(text_out, tok.decode(ids, skip_special));
        text_out += "}\n";
    }
    write_file_atomic(out, text_out);
    return 0;
}

}  // namespace aligners::cli
