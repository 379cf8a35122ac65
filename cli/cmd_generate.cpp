// `aligners generate`: text (or token ids) in, continuations out, from any
// supported HF causal-LM directory. One prompt from flags, or a JSONL batch:
// {"prompt": "..."} (or {"prompt_ids": [..]}) per line in, the same object
// plus "completion" (and "completion_ids", "finish_reason") out.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/generate.h"

#if __has_include("tokenizer/tokenizer.h")
#include "tokenizer/tokenizer.h"
#define ALIGNERS_HAVE_TOKENIZER 1
#endif

namespace aligners::cli {

namespace {

// A token id: an integer in [0, 2^31 - 1], checked in 64 bits (never wrapped).
const Range kTokenId = Range::between(0, 2147483647);

std::vector<int32_t> parse_ids(const std::string& s, const std::string& flag) {
    std::vector<int32_t> ids;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        ids.push_back(int32_t(parse_int_in(flag + ": token id", item, kTokenId)));
    if (ids.empty()) throw UsageError(flag + ": expected comma-separated token ids, got '" + s + "'");
    return ids;
}

// The text side: a tokenizer when one was built in and found in the model dir.
struct TextCodec {
#ifdef ALIGNERS_HAVE_TOKENIZER
    std::unique_ptr<Tokenizer> tok;
#endif
    explicit TextCodec(const std::string& dir) {
#ifdef ALIGNERS_HAVE_TOKENIZER
        if (file_exists(path_join(dir, "tokenizer.json")) || file_exists(path_join(dir, "vocab.json")))
            tok = std::make_unique<Tokenizer>(Tokenizer::load(dir));
#else
        (void)dir;
#endif
    }
    bool available() const {
#ifdef ALIGNERS_HAVE_TOKENIZER
        return tok != nullptr;
#else
        return false;
#endif
    }
    std::vector<int32_t> encode(const std::string& text) const {
#ifdef ALIGNERS_HAVE_TOKENIZER
        if (tok) return tok->encode(text, true);
#endif
        (void)text;
        throw Error("text prompts need a tokenizer (tokenizer.json) in the model directory; use --prompt-ids");
    }
    std::string decode(const std::vector<int32_t>& ids) const {
#ifdef ALIGNERS_HAVE_TOKENIZER
        if (tok) return tok->decode(ids, true);
#endif
        std::string s;
        for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
        return s;
    }
};

}  // namespace

int cmd_generate(int argc, char** argv) {
    ArgParser args("aligners generate", "Continue prompts with a Hugging Face causal LM (KV cache, batched).");
    std::string model_dir, prompt, prompt_ids, input, output, stop_ids;
    std::vector<std::string> stop_strings;
    int max_new = 64, threads = 0, batch = 8;
    SamplingFlags sampling;
    int64_t seed = 0;
    bool sample = false, no_eos = false;
    args.option("--model", &model_dir, "DIR", "HF model directory (config.json, model.safetensors, tokenizer.json)",
                true);
    args.option("--prompt", &prompt, "TEXT", "one prompt (needs the model's tokenizer)");
    args.option("--prompt-ids", &prompt_ids, "IDS", "one prompt as comma-separated token ids");
    args.option("--input", &input, "FILE", "JSONL: {\"prompt\": TEXT} or {\"prompt_ids\": [..]} per line");
    args.option("--output", &output, "FILE", "JSONL results (default: stdout)");
    args.option("--max-new-tokens", &max_new, "N", "tokens to generate at most", ranges::non_negative());
    args.flag("--sample", &sample, "sample instead of greedy decoding");
    add_sampling_flags(args, &sampling, "with --sample");
    args.option("--seed", &seed, "N", "sampling seed");
    args.option("--stop-ids", &stop_ids, "IDS", "comma-separated stop token ids (default: the config's eos)");
    args.flag("--ignore-eos", &no_eos, "do not stop at the end-of-sequence token");
    args.repeated("--stop", &stop_strings, "TEXT", "stop when the completion contains TEXT");
    args.option("--batch", &batch, "N", "prompts per batch in JSONL mode", ranges::count());
    add_threads_flag(args, &threads);
    std::string dtype = "f32";
    add_dtype_flag(args, &dtype);
    int64_t prefix_cache_mb = engine::kDefaultPrefixCacheMb;
    add_prefix_cache_flag(args, &prefix_cache_mb);
    args.epilog(
        "examples:\n"
        "  aligners generate --model tests/fixtures/models/qwen2 --prompt-ids 5,6,7 --max-new-tokens 8\n"
        "  aligners generate --model DIR --prompt 'Once upon a time' --sample --top-p 0.9 --seed 1\n"
        "  aligners generate --model DIR --input prompts.jsonl --output out.jsonl\n");
    if (!args.parse(argc, argv)) return 0;
    engine::GenerateConfig g;
    int sources = !prompt.empty() + !prompt_ids.empty() + !input.empty();
    if (sources != 1) throw UsageError("give exactly one of --prompt, --prompt-ids, --input");
    if (!output.empty()) check_output_file("--output", output);
    std::vector<int32_t> flag_ids;
    if (!prompt_ids.empty()) flag_ids = parse_ids(prompt_ids, "--prompt-ids");
    if (!stop_ids.empty()) g.stop_token_ids = parse_ids(stop_ids, "--stop-ids");
    apply_threads(threads);

    auto be = cpu_backend_for_dtype(dtype);
    auto model = engine::Model::load(model_dir, *be, false);
    TextCodec codec(model_dir);
    engine::PrefixCache prefix_cache(prefix_cache_mb << 20);
    g.prefix_cache = &prefix_cache;
    g.max_new_tokens = max_new;
    g.sampling.greedy = !sample || sampling.greedy();
    g.sampling.temperature = float(sampling.greedy() ? 1.0 : sampling.temperature);
    g.sampling.top_k = sampling.top_k;
    g.sampling.top_p = float(sampling.top_p);
    g.sampling.repetition_penalty = float(sampling.repetition_penalty);
    g.seed = uint64_t(seed);
    g.stop_at_eos = !no_eos;
    g.stop_strings = stop_strings;
    if (!stop_strings.empty()) {
        if (!codec.available()) throw UsageError("--stop needs the model's tokenizer (tokenizer.json)");
        g.decode = [&](const std::vector<int32_t>& ids) { return codec.decode(ids); };
    }
    // The completion text, cut before the first stop string.
    auto completion_text = [&](const engine::Generation& gen) {
        std::string text = codec.decode(gen.tokens);
        for (const auto& s : stop_strings)
            if (size_t at = text.find(s); !s.empty() && at != std::string::npos) text = text.substr(0, at);
        return text;
    };

    if (input.empty()) {
        std::vector<int32_t> ids = prompt.empty() ? flag_ids : codec.encode(prompt);
        auto out = engine::generate(*model, {ids}, g);
        std::printf("%s\n", completion_text(out[0]).c_str());
        return 0;
    }
    // JSONL batch mode.
    std::vector<std::string> lines = read_lines(input);
    std::vector<json::Value> records;
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        std::string where = input + ":" + std::to_string(i + 1);
        json::Value v;
        try {
            v = json::parse(lines[i]);
        } catch (const json::ParseError& e) {
            throw Error(where + ": not valid JSON: " + json::jsonl_error(e));
        }
        if (!v.is_object()) throw Error(where + ": expected a JSON object");
        if (const json::Value* p = v.find("prompt_ids"); p && p->is_array()) {
            std::vector<int32_t> ids;
            for (const auto& x : p->as_array()) {
                if (!x.is_int() || x.as_int() < 0 || x.as_int() > 2147483647)
                    throw Error(where + ": field 'prompt_ids': expected token ids (integers in [0, 2147483647]), got " +
                                json::dump(x));
                ids.push_back(int32_t(x.as_int()));
            }
            prompts.push_back(ids);
        } else {
            prompts.push_back(codec.encode(json::get_string(v, "prompt", where)));
        }
        records.push_back(std::move(v));
    }
    std::string out_text;
    for (size_t b0 = 0; b0 < prompts.size(); b0 += size_t(batch)) {
        size_t b1 = std::min(prompts.size(), b0 + size_t(batch));
        std::vector<std::vector<int32_t>> chunk(prompts.begin() + long(b0), prompts.begin() + long(b1));
        auto gens = engine::generate(*model, chunk, g);
        for (size_t i = b0; i < b1; ++i) {
            const auto& gen = gens[i - b0];
            json::Value& r = records[i];
            r.set("completion", completion_text(gen));
            json::Value ids = json::Value::array();
            for (int32_t t : gen.tokens) ids.push_back(json::Value(t));
            r.set("completion_ids", std::move(ids));
            r.set("finish_reason", gen.finish_reason);
            out_text += json::dump(r) + "\n";
        }
    }
    const engine::PrefixCacheStats& pc = prefix_cache.stats();
    std::fprintf(stderr, "generate: %zu prompts; prefix cache %s: %lld of %lld prompt tokens reused (hit rate %.1f%%)\n",
                 prompts.size(), prefix_cache_mb ? "on" : "off", (long long)pc.reused_tokens(),
                 (long long)pc.prompt_tokens, 100.0 * pc.hit_rate());
    if (output.empty())
        std::fwrite(out_text.data(), 1, out_text.size(), stdout);
    else
        write_file_atomic(output, out_text);
    return 0;
}

}  // namespace aligners::cli
