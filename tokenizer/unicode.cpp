#include "tokenizer/unicode.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "tokenizer/unicode_data.h"

namespace aligners::tok {

// ---- the two-stage property table ------------------------------------------------

namespace {

constexpr uint32_t kMaxCp = 0x110000;
constexpr uint32_t kBlock = 128;

struct Tables {
    std::vector<uint16_t> stage1;
    std::vector<uint32_t> stage2;
    std::unordered_map<uint64_t, uint32_t> compose;  // (first << 32 | second) -> composite
};

Tables build_tables() {
    Tables t;
    t.stage1.resize(kMaxCp / kBlock);
    // Expand the runs one block at a time, sharing identical blocks.
    std::unordered_map<std::string, uint16_t> seen;
    size_t run = 0;
    std::vector<uint32_t> block(kBlock);
    for (uint32_t b = 0; b < kMaxCp / kBlock; ++b) {
        for (uint32_t i = 0; i < kBlock; ++i) {
            uint32_t cp = b * kBlock + i;
            while (run + 1 < ucd::kPropRunCount && ucd::kPropRuns[run + 1].start <= cp) ++run;
            block[i] = ucd::kPropRuns[run].value;
        }
        std::string key(reinterpret_cast<const char*>(block.data()), kBlock * sizeof(uint32_t));
        auto it = seen.find(key);
        if (it == seen.end()) {
            uint16_t index = uint16_t(t.stage2.size() / kBlock);
            t.stage2.insert(t.stage2.end(), block.begin(), block.end());
            it = seen.emplace(std::move(key), index).first;
        }
        t.stage1[b] = it->second;
    }
    // Primary composites: canonical two-code-point decompositions that are not
    // excluded from composition.
    for (size_t i = 0; i < ucd::kDecompCount; ++i) {
        const ucd::DecompEntry& e = ucd::kDecomp[i];
        uint32_t len = (e.packed >> 1) & 127;
        if ((e.packed & 1) || len != 2) continue;
        if (std::binary_search(ucd::kCompExcluded, ucd::kCompExcluded + ucd::kCompExcludedCount, e.cp)) continue;
        const uint32_t* to = ucd::kDecompPool + (e.packed >> 8);
        t.compose.emplace(uint64_t(to[0]) << 32 | to[1], e.cp);
    }
    return t;
}

const Tables& tables() {
    static const Tables t = build_tables();
    return t;
}

// Sets the pointers the inline lookups use before main() runs.
struct TablesInit {
    TablesInit() {
        detail::g_stage1 = tables().stage1.data();
        detail::g_stage2 = tables().stage2.data();
    }
} g_tables_init;

}  // namespace

namespace detail {
const uint16_t* g_stage1 = nullptr;
const uint32_t* g_stage2 = nullptr;
}  // namespace detail

const char* unicode_version() { return ucd::kUnicodeVersion; }
const char* normalization_version() { return ucd::kNormalizationVersion; }

// ---- normalization ------------------------------------------------------------------

namespace {

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

const ucd::DecompEntry* find_decomp(uint32_t cp) {
    const ucd::DecompEntry* end = ucd::kDecomp + ucd::kDecompCount;
    const ucd::DecompEntry* it =
        std::lower_bound(ucd::kDecomp, end, cp, [](const ucd::DecompEntry& e, uint32_t c) { return e.cp < c; });
    return it != end && it->cp == cp ? it : nullptr;
}

// Full (recursive) decomposition of one code point.
void decompose(uint32_t cp, bool compat, std::vector<uint32_t>& out) {
    if (cp >= kSBase && cp < kSBase + kSCount) {  // Hangul syllable, algorithmic
        uint32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount) out.push_back(kTBase + s % kTCount);
        return;
    }
    const ucd::DecompEntry* e = find_decomp(cp);
    if (!e || ((e->packed & 1) && !compat)) {
        out.push_back(cp);
        return;
    }
    const uint32_t* to = ucd::kDecompPool + (e->packed >> 8);
    uint32_t len = (e->packed >> 1) & 127;
    for (uint32_t i = 0; i < len; ++i) decompose(to[i], compat, out);
}

// Canonical ordering: stable-sort each run of non-starters by combining class.
void canonical_order(std::vector<uint32_t>& cps) {
    size_t n = cps.size();
    for (size_t i = 0; i < n;) {
        if (combining_class(cps[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < n && combining_class(cps[j]) != 0) ++j;
        std::stable_sort(cps.begin() + long(i), cps.begin() + long(j),
                         [](uint32_t a, uint32_t b) { return combining_class(a) < combining_class(b); });
        i = j;
    }
}

uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    const auto& m = tables().compose;
    auto it = m.find(uint64_t(a) << 32 | b);
    return it == m.end() ? 0 : it->second;
}

// Canonical composition (UAX #15 D117) in place.
void compose(std::vector<uint32_t>& cps) {
    if (cps.empty()) return;
    size_t starter = 0;
    bool have_starter = combining_class(cps[0]) == 0;
    int last_cc = have_starter ? 0 : 256;
    size_t w = 1;
    for (size_t r = 1; r < cps.size(); ++r) {
        uint32_t c = cps[r];
        int cc = combining_class(c);
        if (have_starter && (last_cc < cc || (last_cc == 0 && w == starter + 1))) {
            // Not blocked from the starter: try to combine.
            if (uint32_t comp = compose_pair(cps[starter], c)) {
                cps[starter] = comp;
                continue;
            }
        }
        if (cc == 0) {
            starter = w;
            have_starter = true;
        }
        last_cc = cc;
        cps[w++] = c;
    }
    cps.resize(w);
}

bool quick_check_yes(std::string_view in, NormForm form) {
    uint32_t bad = form == NormForm::NFC    ? kPropNfcNotYes
                   : form == NormForm::NFD  ? kPropNfdNo
                   : form == NormForm::NFKC ? kPropNfkcNotYes
                                            : kPropNfkdNo;
    int last_cc = 0;
    for (size_t i = 0; i < in.size();) {
        if (uint8_t(in[i]) < 0x80) {
            ++i;
            last_cc = 0;
            continue;
        }
        int len;
        uint32_t cp = decode_utf8(in.data() + i, &len);
        i += size_t(len);
        uint32_t p = unicode_props(cp);
        int cc = int(p >> kPropCccShift) & 255;
        if ((p & bad) || (cc != 0 && cc < last_cc)) return false;
        last_cc = cc;
    }
    return true;
}

}  // namespace

void normalize(std::string_view in, NormForm form, std::string& out) {
    if (quick_check_yes(in, form)) {
        out.append(in);
        return;
    }
    bool compat = form == NormForm::NFKC || form == NormForm::NFKD;
    std::vector<uint32_t> cps;
    cps.reserve(in.size());
    for (size_t i = 0; i < in.size();) {
        int len;
        uint32_t cp = decode_utf8(in.data() + i, &len);
        i += size_t(len);
        decompose(cp, compat, cps);
    }
    canonical_order(cps);
    if (form == NormForm::NFC || form == NormForm::NFKC) compose(cps);
    for (uint32_t cp : cps) append_utf8(out, cp);
}

std::string normalize(std::string_view in, NormForm form) {
    std::string out;
    normalize(in, form, out);
    return out;
}

void lowercase(std::string_view in, std::string& out) {
    for (size_t i = 0; i < in.size();) {
        uint8_t b = uint8_t(in[i]);
        if (b < 0x80) {
            out += char(b >= 'A' && b <= 'Z' ? b + 32 : b);
            ++i;
            continue;
        }
        int len;
        uint32_t cp = decode_utf8(in.data() + i, &len);
        const ucd::LowerEntry* end = ucd::kLower + ucd::kLowerCount;
        const ucd::LowerEntry* e =
            std::lower_bound(ucd::kLower, end, cp, [](const ucd::LowerEntry& x, uint32_t c) { return x.cp < c; });
        if (e == end || e->cp != cp) {
            out.append(in.data() + i, size_t(len));
        } else if ((e->packed & 1) == 0) {
            append_utf8(out, e->packed >> 2);
        } else {
            const uint32_t* to = ucd::kLowerPool + (e->packed >> 4);
            for (uint32_t k = 0; k < ((e->packed >> 1) & 7); ++k) append_utf8(out, to[k]);
        }
        i += size_t(len);
    }
}

}  // namespace aligners::tok
