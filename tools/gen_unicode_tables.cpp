// Generates tokenizer/unicode_data.cpp from the Unicode Character Database
// text files (Debian's `unicode-data` package installs them in
// /usr/share/unicode). Run through tools/gen_unicode_tables.sh; the output is
// committed, so neither the build nor the tests need the UCD.
//
//     gen_unicode_tables UCD_DIR OUT.cpp
//
// What it emits (all sorted by code point):
//   kPropRuns      (start, value) runs covering U+0000..U+10FFFF, where value
//                  packs the general category, White_Space, Alphabetic, the
//                  regex "\w" class, normalization quick-check bits and the
//                  canonical combining class (layout in tokenizer/unicode.h).
//   kDecomp*       every decomposition mapping from UnicodeData.txt (canonical
//                  and compatibility), one-level, as a flat pool of code points.
//   kCompExcluded  Full_Composition_Exclusion code points (for NFC/NFKC).
//   kLower*        lowercase mappings: the simple ones from UnicodeData.txt
//                  plus the unconditional multi-character ones from
//                  SpecialCasing.txt (what Rust's char::to_lowercase does).
//
// Normalization data (combining classes, decompositions, quick-check bits)
// is limited to characters assigned by Unicode 9.0 (DerivedAge.txt): HF
// tokenizers' NFC/NFD/NFKC/NFKD (the unicode-normalization-alignments crate)
// implement Unicode 9.0 and leave later characters untouched, and we match
// it. Normalization properties of a character never change once assigned,
// so 15.0's data restricted to 9.0's characters is 9.0's data.
//
// One more bit marks the characters Unicode 8.0 assigned: HF's BertNormalizer
// and BertPreTokenizer classify characters with the unicode_categories crate,
// whose tables are Unicode 8.0 (see tokenizer/unicode.h, bert_*).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kMaxCp = 0x110000;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "gen_unicode_tables: %s\n", msg.c_str());
    std::exit(1);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return "";
    size_t b = s.find_last_not_of(" \t\r");
    return s.substr(a, b - a + 1);
}

uint32_t hex(const std::string& s) {
    std::string t = trim(s);
    if (t.empty()) die("empty code point field");
    return uint32_t(std::stoul(t, nullptr, 16));
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    if (!in) die("cannot open " + path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

// "XXXX" or "XXXX..YYYY" -> [first, last]
void parse_range(const std::string& field, uint32_t* first, uint32_t* last) {
    std::string f = trim(field);
    size_t dots = f.find("..");
    if (dots == std::string::npos) {
        *first = *last = hex(f);
    } else {
        *first = hex(f.substr(0, dots));
        *last = hex(f.substr(dots + 2));
    }
}

// Calls fn(first, last, property) for every data line of a UCD property file
// ("range ; property # comment").
template <typename Fn>
void for_each_property_line(const std::string& path, Fn fn) {
    for (const std::string& raw : read_lines(path)) {
        std::string line = raw.substr(0, raw.find('#'));
        if (trim(line).empty()) continue;
        std::vector<std::string> f = split(line, ';');
        if (f.size() < 2) die(path + ": bad line: " + raw);
        uint32_t a, b;
        parse_range(f[0], &a, &b);
        fn(a, b, trim(f[1]), f.size() > 2 ? trim(f[2]) : std::string());
    }
}

const char* kCategories[] = {"Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd",
                             "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm",
                             "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};

int category_index(const std::string& gc) {
    for (int i = 0; i < int(sizeof kCategories / sizeof kCategories[0]); ++i)
        if (gc == kCategories[i]) return i;
    die("unknown general category " + gc);
}

// Value bit layout; must match tokenizer/unicode.h.
constexpr uint32_t kWhiteSpace = 1u << 5;
constexpr uint32_t kAlphabetic = 1u << 6;
constexpr uint32_t kWord = 1u << 7;
constexpr uint32_t kNfcNotYes = 1u << 8;   // NFC_QC = No or Maybe
constexpr uint32_t kNfdNo = 1u << 9;       // NFD_QC = No
constexpr uint32_t kNfkcNotYes = 1u << 10; // NFKC_QC = No or Maybe
constexpr uint32_t kNfkdNo = 1u << 11;     // NFKD_QC = No
constexpr uint32_t kNormKnown = 1u << 12; // assigned by kNormalizationAge: has normalization data
constexpr uint32_t kAssigned8 = 1u << 13;  // assigned by Unicode 8.0 (HF's BERT character classes)
constexpr int kCccShift = 16;

// Unicode version (major * 100 + minor) whose characters get normalization data.
constexpr int kNormalizationAge = 900;

struct Decomp {
    bool compat;
    std::vector<uint32_t> to;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) die("usage: gen_unicode_tables UCD_DIR OUT.cpp");
    std::string dir = argv[1], out_path = argv[2];

    std::vector<uint32_t> value(kMaxCp, 0);  // category Cn (0) everywhere by default
    std::vector<uint8_t> ccc(kMaxCp, 0);
    std::map<uint32_t, Decomp> decomps;
    std::map<uint32_t, std::vector<uint32_t>> lower;
    std::vector<bool> is_mark_nd_pc(kMaxCp, false);

    // ---- UnicodeData.txt -----------------------------------------------------
    uint32_t range_first = 0;
    bool in_range = false;
    for (const std::string& line : read_lines(dir + "/UnicodeData.txt")) {
        if (trim(line).empty()) continue;
        std::vector<std::string> f = split(line, ';');
        if (f.size() < 15) die("UnicodeData.txt: bad line: " + line);
        uint32_t cp = hex(f[0]);
        const std::string& name = f[1];
        int gc = category_index(f[2]);
        int cc = std::atoi(f[3].c_str());
        uint32_t first = cp;
        if (name.size() > 8 && name.compare(name.size() - 8, 8, ", First>") == 0) {
            range_first = cp;
            in_range = true;
            continue;
        }
        if (name.size() > 7 && name.compare(name.size() - 7, 7, ", Last>") == 0) {
            if (!in_range) die("UnicodeData.txt: Last without First at " + f[0]);
            first = range_first;
            in_range = false;
        }
        for (uint32_t c = first; c <= cp; ++c) {
            value[c] = uint32_t(gc);
            ccc[c] = uint8_t(cc);
            const std::string g = f[2];
            if (g[0] == 'M' || g == "Nd" || g == "Pc") is_mark_nd_pc[c] = true;
        }
        std::string d = trim(f[5]);
        if (!d.empty()) {
            Decomp dec{false, {}};
            std::istringstream ds(d);
            std::string tok;
            while (ds >> tok) {
                if (tok[0] == '<') {
                    dec.compat = true;
                    continue;
                }
                dec.to.push_back(hex(tok));
            }
            decomps[cp] = dec;
        }
        if (!trim(f[13]).empty()) lower[cp] = {hex(f[13])};
    }

    // ---- SpecialCasing.txt: unconditional lowercase mappings ------------------
    for (const std::string& raw : read_lines(dir + "/SpecialCasing.txt")) {
        std::string line = raw.substr(0, raw.find('#'));
        if (trim(line).empty()) continue;
        std::vector<std::string> f = split(line, ';');
        // code; lower; title; upper; (condition;)
        if (f.size() < 5) die("SpecialCasing.txt: bad line: " + raw);
        if (f.size() > 5 && !trim(f[4]).empty()) continue;  // conditional
        uint32_t cp = hex(f[0]);
        std::vector<uint32_t> to;
        std::istringstream ls(f[1]);
        std::string tok;
        while (ls >> tok) to.push_back(hex(tok));
        if (to.size() == 1 && to[0] == cp) continue;  // identity
        lower[cp] = to;
    }

    // ---- binary properties -----------------------------------------------------
    std::vector<bool> join_control(kMaxCp, false);
    for_each_property_line(dir + "/PropList.txt", [&](uint32_t a, uint32_t b, const std::string& p, const std::string&) {
        for (uint32_t c = a; c <= b; ++c) {
            if (p == "White_Space") value[c] |= kWhiteSpace;
            if (p == "Join_Control") join_control[c] = true;
        }
    });
    for_each_property_line(dir + "/DerivedCoreProperties.txt",
                           [&](uint32_t a, uint32_t b, const std::string& p, const std::string&) {
                               if (p != "Alphabetic") return;
                               for (uint32_t c = a; c <= b; ++c) value[c] |= kAlphabetic;
                           });
    for (uint32_t c = 0; c < kMaxCp; ++c)
        if ((value[c] & kAlphabetic) || is_mark_nd_pc[c] || join_control[c]) value[c] |= kWord;

    std::vector<uint32_t> excluded;
    for_each_property_line(dir + "/DerivedNormalizationProps.txt",
                           [&](uint32_t a, uint32_t b, const std::string& p, const std::string& v) {
                               for (uint32_t c = a; c <= b; ++c) {
                                   if (p == "Full_Composition_Exclusion") excluded.push_back(c);
                                   if (p == "NFC_QC" && (v == "N" || v == "M")) value[c] |= kNfcNotYes;
                                   if (p == "NFD_QC" && v == "N") value[c] |= kNfdNo;
                                   if (p == "NFKC_QC" && (v == "N" || v == "M")) value[c] |= kNfkcNotYes;
                                   if (p == "NFKD_QC" && v == "N") value[c] |= kNfkdNo;
                               }
                           });
    for (uint32_t c = 0; c < kMaxCp; ++c) value[c] |= uint32_t(ccc[c]) << kCccShift;


    // The version, from the header line "# DerivedCoreProperties-15.0.0.txt".
    std::string version = "unknown";
    {
        std::vector<std::string> lines = read_lines(dir + "/DerivedCoreProperties.txt");
        const std::string tag = "DerivedCoreProperties-";
        size_t at = lines.empty() ? std::string::npos : lines[0].find(tag);
        if (at != std::string::npos) {
            size_t end = lines[0].find(".txt", at);
            version = lines[0].substr(at + tag.size(), end - at - tag.size());
        }
    }

    // ---- normalization data only for characters of kNormalizationAge --------
    std::vector<int> age(kMaxCp, 9999);
    for_each_property_line(dir + "/DerivedAge.txt", [&](uint32_t a, uint32_t b, const std::string& v, const std::string&) {
        size_t dot = v.find('.');
        int version = std::atoi(v.substr(0, dot).c_str()) * 100 + std::atoi(v.substr(dot + 1).c_str());
        for (uint32_t c = a; c <= b; ++c) age[c] = version;
    });
    for (uint32_t c = 0; c < kMaxCp; ++c) {
        if (age[c] <= 800) value[c] |= kAssigned8;
        if (age[c] <= kNormalizationAge) {
            value[c] |= kNormKnown;
            continue;
        }
        value[c] &= ~(kNfcNotYes | kNfdNo | kNfkcNotYes | kNfkdNo | (0xFFu << kCccShift));
        decomps.erase(c);
    }
    std::vector<uint32_t> kept;
    for (uint32_t c : excluded)
        if (age[c] <= kNormalizationAge) kept.push_back(c);
    excluded.swap(kept);

    // ---- emit ---------------------------------------------------------------
    FILE* out = std::fopen(out_path.c_str(), "w");
    if (!out) die("cannot write " + out_path);
    std::fprintf(out,
                 "// GENERATED by tools/gen_unicode_tables.sh from the Unicode Character Database %s\n"
                 "// (Debian's unicode-data package). Do not edit; regenerate instead.\n"
                 "#include \"tokenizer/unicode_data.h\"\n\n"
                 "namespace aligners::tok::ucd {\n\n"
                 "const char kUnicodeVersion[] = \"%s\";\n"
                 "const char kNormalizationVersion[] = \"%d.%d\";\n\n",
                 version.c_str(), version.c_str(), kNormalizationAge / 100, kNormalizationAge % 100);

    size_t n_runs = 0;
    std::fprintf(out, "const PropRun kPropRuns[] = {\n");
    for (uint32_t c = 0; c < kMaxCp; ++c) {
        if (c > 0 && value[c] == value[c - 1]) continue;
        std::fprintf(out, "{0x%X,0x%X},", c, value[c]);
        if (++n_runs % 8 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kPropRunCount = %zu;\n\n", n_runs);

    std::vector<uint32_t> pool;
    std::fprintf(out, "const DecompEntry kDecomp[] = {\n");
    size_t n = 0;
    for (const auto& [cp, d] : decomps) {
        uint32_t packed = uint32_t(pool.size()) << 8 | uint32_t(d.to.size()) << 1 | (d.compat ? 1 : 0);
        for (uint32_t t : d.to) pool.push_back(t);
        std::fprintf(out, "{0x%X,0x%X},", cp, packed);
        if (++n % 8 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kDecompCount = %zu;\n\n", decomps.size());
    std::fprintf(out, "const uint32_t kDecompPool[] = {\n");
    for (size_t i = 0; i < pool.size(); ++i) {
        std::fprintf(out, "0x%X,", pool[i]);
        if ((i + 1) % 12 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\n\n");

    std::fprintf(out, "const uint32_t kCompExcluded[] = {\n");
    for (size_t i = 0; i < excluded.size(); ++i) {
        std::fprintf(out, "0x%X,", excluded[i]);
        if ((i + 1) % 12 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kCompExcludedCount = %zu;\n\n", excluded.size());

    std::vector<uint32_t> lpool;
    std::fprintf(out, "const LowerEntry kLower[] = {\n");
    n = 0;
    for (const auto& [cp, to] : lower) {
        uint32_t packed;
        if (to.size() == 1) {
            packed = to[0] << 2;  // single code point, stored inline
        } else {
            packed = uint32_t(lpool.size()) << 4 | uint32_t(to.size()) << 1 | 1;
            for (uint32_t t : to) lpool.push_back(t);
        }
        std::fprintf(out, "{0x%X,0x%X},", cp, packed);
        if (++n % 8 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kLowerCount = %zu;\n", lower.size());
    std::fprintf(out, "const uint32_t kLowerPool[] = {");
    for (uint32_t t : lpool) std::fprintf(out, "0x%X,", t);
    if (lpool.empty()) std::fprintf(out, "0");
    std::fprintf(out, "};\n\n}  // namespace aligners::tok::ucd\n");
    std::fclose(out);
    std::fprintf(stderr, "gen_unicode_tables: Unicode %s: %zu property runs, %zu decompositions, %zu exclusions, %zu lowercase mappings\n",
                 version.c_str(), n_runs, decomps.size(), excluded.size(), lower.size());
    return 0;
}
