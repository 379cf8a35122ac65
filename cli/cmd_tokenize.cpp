// `aligners tokenize` and `aligners detokenize`: JSON Lines in on stdin, one
// JSON line out per input line, in order.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "tokenizer/tokenizer.h"

namespace aligners::cli {

namespace {

std::string read_stdin() {
    std::string data;
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(0, buf, sizeof buf);
        if (r < 0) throw Error("stdin: read failed");
        if (r == 0) break;
        data.append(buf, size_t(r));
    }
    return data;
}

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

json::Value parse_line(size_t number, std::string_view line) {
    try {
        json::Value v = json::parse(line);
        if (!v.is_object()) throw Error("expected a JSON object");
        return v;
    } catch (const json::ParseError& e) {
        throw Error("stdin line " + std::to_string(number) + ": not valid JSON: " + json::jsonl_error(e));
    } catch (const Error& e) {
        throw Error("stdin line " + std::to_string(number) + ": " + e.what());
    }
}

void write_stdout(const std::string& out) {
    size_t done = 0;
    while (done < out.size()) {
        ssize_t w = ::write(1, out.data() + done, out.size() - done);
        if (w <= 0) throw Error("stdout: write failed");
        done += size_t(w);
    }
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
    ArgParser args("aligners tokenize", "Encode text to token ids: {\"text\": ...} lines on stdin -> {\"ids\": [...]} lines.");
    std::string path;
    bool add_special = false;
    args.option("--tokenizer", &path, "PATH", "tokenizer.json, a model directory, or a GPT-2 encoder.json+vocab.bpe directory",
                true);
    args.flag("--add-special-tokens", &add_special, "apply the post-processor (e.g. BOS/EOS)");
    args.epilog("Example:\n  echo '{\"text\": \"Hello world\"}' | aligners tokenize --tokenizer ../shared/tokenizers/gpt2\n");
    if (!args.parse(argc, argv)) return 0;

    Tokenizer tok = Tokenizer::load(path);
    std::string data = read_stdin();
    auto lines = input_lines(data);
    std::vector<std::string> texts;
    texts.reserve(lines.size());
    for (const auto& [number, line] : lines) {
        json::Value v = parse_line(number, line);
        const json::Value* text = v.find("text");
        if (!text || !text->is_string())
            throw Error("stdin line " + std::to_string(number) + ": expected {\"text\": \"...\"}");
        texts.push_back(text->as_string());
    }
    std::vector<std::vector<TokenId>> ids = tok.encode_batch(texts, add_special);
    std::string out;
    for (const auto& seq : ids) {
        out += "{\"ids\":[";
        for (size_t i = 0; i < seq.size(); ++i) {
            if (i) out += ',';
            out += std::to_string(seq[i]);
        }
        out += "]}\n";
    }
    write_stdout(out);
    return 0;
}

int cmd_detokenize(int argc, char** argv) {
    ArgParser args("aligners detokenize", "Decode token ids to text: {\"ids\": [...]} lines on stdin -> {\"text\": ...} lines.");
    std::string path;
    bool skip_special = false;
    args.option("--tokenizer", &path, "PATH", "tokenizer.json, a model directory, or a GPT-2 encoder.json+vocab.bpe directory",
                true);
    args.flag("--skip-special-tokens", &skip_special, "leave out special tokens (BOS, EOS, ...)");
    if (!args.parse(argc, argv)) return 0;

    Tokenizer tok = Tokenizer::load(path);
    std::string data = read_stdin();
    std::string out;
    std::vector<TokenId> ids;
    for (const auto& [number, line] : input_lines(data)) {
        json::Value v = parse_line(number, line);
        const json::Value* list = v.find("ids");
        std::string where = "stdin line " + std::to_string(number);
        if (!list || !list->is_array()) throw Error(where + ": expected {\"ids\": [...]}");
        ids.clear();
        for (const json::Value& id : list->as_array()) {
            if (!id.is_int() || id.as_int() < 0 || id.as_int() > INT32_MAX)
                throw Error(where + ": ids must be non-negative integers");
            ids.push_back(TokenId(id.as_int()));
        }
        out += "{\"text\":";
        json::dump_string(out, tok.decode(ids, skip_special));
        out += "}\n";
    }
    write_stdout(out);
    return 0;
}

}  // namespace aligners::cli
