#include "tokenizer/trainer.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <queue>
#include <unordered_map>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/thread_pool.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/hash_maps.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace aligners {

namespace {

using Pair = uint64_t;  // left id << 32 | right id
inline Pair make_pair_key(uint32_t a, uint32_t b) { return uint64_t(a) << 32 | b; }

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return size_t(tok::hash_bytes(s.data(), s.size())); }
};
using WordCounts = std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>>;

// One heap entry, as HF's Merge: ordered by count, then by the smaller pair.
struct Candidate {
    uint64_t count;
    Pair pair;
    std::vector<uint32_t> words;  // where the pair was seen (may hold duplicates)
    bool operator<(const Candidate& o) const {
        if (count != o.count) return count < o.count;
        return pair > o.pair;
    }
};

// A pair's count change in one word: HF Word::merge's "changes".
struct Change {
    Pair pair;
    int delta;
    uint32_t word;
};

// Merges every (a, b) in `w` left to right into `merged`, recording how the
// neighbouring pairs' counts change.
void merge_word(std::vector<uint32_t>& w, uint32_t a, uint32_t b, uint32_t merged, uint32_t word_index,
                std::vector<Change>& changes) {
    size_t i = 0;
    while (i < w.size()) {
        if (w[i] == a && i + 1 < w.size() && w[i + 1] == b) {
            if (i > 0) {
                changes.push_back({make_pair_key(w[i - 1], a), -1, word_index});
                changes.push_back({make_pair_key(w[i - 1], merged), 1, word_index});
            }
            w[i] = merged;
            w.erase(w.begin() + long(i) + 1);
            if (i + 1 < w.size()) {
                changes.push_back({make_pair_key(b, w[i + 1]), -1, word_index});
                changes.push_back({make_pair_key(merged, w[i + 1]), 1, word_index});
            }
        }
        ++i;
    }
}

void sort_unique(std::vector<uint32_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<std::pair<std::string, uint64_t>> count_words(const std::vector<std::string>& files,
                                                          tok::SplitPattern pattern) {
    tok::PreTokenizer pre = tok::PreTokenizer::byte_level(
        pattern == tok::SplitPattern::Gpt2 ? std::nullopt : std::optional<tok::SplitPattern>(pattern));
    WordCounts total;
    std::mutex mu;
    for (const std::string& path : files) {
        std::string data = read_file(path);
        size_t bad = 0;
        if (!tok::valid_utf8(data, &bad))
            throw Error(path + ": not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
        // Lines keep their "\n" (HF reads with line endings); each thread
        // counts a contiguous share of the lines.
        std::vector<std::string_view> lines;
        for (size_t pos = 0; pos < data.size();) {
            size_t end = data.find('\n', pos);
            end = end == std::string::npos ? data.size() : end + 1;
            lines.push_back(std::string_view(data).substr(pos, end - pos));
            pos = end;
        }
        ThreadPool::global().parallel_for(int64_t(lines.size()), [&](int64_t begin, int64_t end) {
            WordCounts local;
            tok::PreTokenizeScratch scratch;
            std::vector<tok::Piece> words;
            for (int64_t i = begin; i < end; ++i) {
                scratch.arena.clear();
                pre.run(lines[size_t(i)], true, words, scratch);
                for (const tok::Piece& w : words) {
                    auto it = local.find(w.text);
                    if (it == local.end()) local.emplace(std::string(w.text), 1);
                    else ++it->second;
                }
            }
            std::lock_guard<std::mutex> lock(mu);
            for (auto& [w, c] : local) total[w] += c;
        });
    }
    std::vector<std::pair<std::string, uint64_t>> out(total.begin(), total.end());
    std::sort(out.begin(), out.end());  // deterministic word order
    return out;
}

std::string train_bpe_json(const std::vector<std::pair<std::string, uint64_t>>& word_counts,
                           const BpeTrainerOptions& options) {
    // Vocabulary: special tokens, then the byte alphabet by code point. Token
    // strings are byte-level text, as in tokenizer.json.
    std::vector<std::string> id_to_word;
    std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> word_to_id;
    auto add_word = [&](const std::string& w) {
        if (word_to_id.count(w)) return;
        word_to_id.emplace(w, uint32_t(id_to_word.size()));
        id_to_word.push_back(w);
    };
    for (const std::string& s : options.special_tokens) add_word(s);
    std::vector<uint32_t> alphabet;
    for (int b = 0; b < 256; ++b) alphabet.push_back(tok::byte_to_char(uint8_t(b)));
    std::sort(alphabet.begin(), alphabet.end());
    for (uint32_t cp : alphabet) {
        std::string s;
        tok::append_utf8(s, cp);
        add_word(s);
    }
    uint32_t byte_id[256];
    for (int b = 0; b < 256; ++b) byte_id[b] = word_to_id.at(tok::byte_to_utf8(uint8_t(b)));

    // Words as symbol ids; initial pair counts and where each pair occurs.
    std::vector<std::vector<uint32_t>> words(word_counts.size());
    std::vector<uint64_t> counts(word_counts.size());
    std::unordered_map<Pair, int64_t> pair_counts;
    std::unordered_map<Pair, std::vector<uint32_t>> where;
    for (size_t i = 0; i < word_counts.size(); ++i) {
        counts[i] = word_counts[i].second;
        for (unsigned char c : word_counts[i].first) words[i].push_back(byte_id[c]);
        const std::vector<uint32_t>& w = words[i];
        for (size_t k = 0; k + 1 < w.size(); ++k) {
            Pair p = make_pair_key(w[k], w[k + 1]);
            pair_counts[p] += int64_t(counts[i]);
            std::vector<uint32_t>& at = where[p];
            if (at.empty() || at.back() != i) at.push_back(uint32_t(i));
        }
    }
    std::priority_queue<Candidate> queue;
    for (auto& [pair, at] : where) {
        int64_t c = pair_counts[pair];
        if (c > 0) queue.push(Candidate{uint64_t(c), pair, std::move(at)});
    }
    where.clear();

    std::vector<std::pair<uint32_t, uint32_t>> merges;
    size_t target = options.vocab_size > id_to_word.size() ? options.vocab_size - id_to_word.size() : 0;
    std::optional<Progress> bar;
    if (options.progress) bar.emplace("train tokenizer", int64_t(target), "merge");
    std::vector<Change> changes;
    while (id_to_word.size() < options.vocab_size && !queue.empty()) {
        // (Moving the word list out of the top entry is safe: the heap
        // orders entries by count and pair only.)
        Candidate top = std::move(const_cast<Candidate&>(queue.top()));
        queue.pop();
        uint64_t current = uint64_t(pair_counts[top.pair]);  // as HF's `as u64`
        if (current != top.count) {
            // Stale count: requeue with the current one (HF does the same).
            top.count = current;
            queue.push(std::move(top));
            continue;
        }
        if (top.count < 1 || options.min_frequency > top.count) break;

        uint32_t a = uint32_t(top.pair >> 32), b = uint32_t(top.pair);
        std::string new_token = id_to_word[a] + id_to_word[b];
        uint32_t new_id;
        if (auto it = word_to_id.find(new_token); it != word_to_id.end()) {
            new_id = it->second;
        } else {
            new_id = uint32_t(id_to_word.size());
            word_to_id.emplace(new_token, new_id);
            id_to_word.push_back(new_token);
        }
        merges.push_back({a, b});

        changes.clear();
        sort_unique(top.words);
        for (uint32_t wi : top.words) merge_word(words[wi], a, b, new_id, wi, changes);
        for (const Change& ch : changes) {
            pair_counts[ch.pair] += int64_t(ch.delta) * int64_t(counts[ch.word]);
            if (ch.delta > 0) where[ch.pair].push_back(ch.word);
        }
        for (auto& [pair, at] : where) {
            int64_t c = pair_counts[pair];
            if (c > 0) {
                sort_unique(at);
                queue.push(Candidate{uint64_t(c), pair, std::move(at)});
            }
        }
        where.clear();
        if (bar) bar->update(1);
    }
    if (bar) bar->finish(std::to_string(id_to_word.size()) + " tokens");

    // tokenizer.json
    json::Value root = json::Value::object();
    root.set("version", "1.0");
    root.set("truncation", nullptr);
    root.set("padding", nullptr);
    json::Value added = json::Value::array();
    for (const std::string& s : options.special_tokens) {
        json::Value t = json::Value::object();
        t.set("id", int64_t(word_to_id.at(s)));
        t.set("content", s);
        t.set("single_word", false);
        t.set("lstrip", false);
        t.set("rstrip", false);
        t.set("normalized", false);
        t.set("special", true);
        added.push_back(std::move(t));
    }
    root.set("added_tokens", std::move(added));
    root.set("normalizer", nullptr);
    if (options.pattern == tok::SplitPattern::Gpt2) {
        root.set("pre_tokenizer", tok::byte_level_json(false, true, true));
    } else {
        json::Value split = json::Value::object();
        split.set("type", "Split");
        json::Value pattern = json::Value::object();
        pattern.set("Regex", tok::split_pattern_regex(options.pattern));
        split.set("pattern", std::move(pattern));
        split.set("behavior", "Isolated");
        split.set("invert", false);
        json::Value seq = json::Value::object();
        seq.set("type", "Sequence");
        json::Value list = json::Value::array();
        list.push_back(std::move(split));
        list.push_back(tok::byte_level_json(false, true, false));
        seq.set("pretokenizers", std::move(list));
        root.set("pre_tokenizer", std::move(seq));
    }
    root.set("post_processor", tok::byte_level_json(true, false, true));
    root.set("decoder", tok::byte_level_json(true, true, true));
    json::Value model = json::Value::object();
    model.set("type", "BPE");
    model.set("dropout", nullptr);
    model.set("unk_token", nullptr);
    model.set("continuing_subword_prefix", nullptr);
    model.set("end_of_word_suffix", nullptr);
    model.set("fuse_unk", false);
    model.set("byte_fallback", false);
    model.set("ignore_merges", false);
    json::Value vocab = json::Value::object();
    for (size_t id = 0; id < id_to_word.size(); ++id) vocab.as_object().push_back({id_to_word[id], int64_t(id)});
    model.set("vocab", std::move(vocab));
    json::Value merge_list = json::Value::array();
    for (auto [a, b] : merges) {
        json::Value m = json::Value::array();
        m.push_back(id_to_word[a]);
        m.push_back(id_to_word[b]);
        merge_list.push_back(std::move(m));
    }
    model.set("merges", std::move(merge_list));
    root.set("model", std::move(model));
    json::DumpOptions dump;
    dump.indent = 2;
    return json::dump(root, dump);
}

Tokenizer train_bpe(const std::vector<std::string>& files, const BpeTrainerOptions& options) {
    if (files.empty()) throw Error("train-tokenizer: no training files given");
    return Tokenizer::from_json(train_bpe_json(count_words(files, options.pattern), options), "trained tokenizer.json");
}

}  // namespace aligners
