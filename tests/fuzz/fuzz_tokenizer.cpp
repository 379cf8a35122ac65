// Fuzz target: Tokenizer::from_json on arbitrary bytes (a tokenizer.json).
// Properties: it returns or throws Error (no other exception, no signal, no
// allocation beyond what the ids of the file justify: see BpeModel's id
// limit); an accepted tokenizer encodes a few fixed texts (or refuses one with
// Error) into ids it knows (bar post-processor ids, see below), and decodes them.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;

// from_json warns on stderr (ignored truncation, renumbered added tokens):
// tools/run_fuzz.sh runs this target with -close_fd_mask=2, which keeps
// libFuzzer's and the sanitizers' reports.

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::unique_ptr<Tokenizer> tok;
    try {
        tok = std::make_unique<Tokenizer>(Tokenizer::from_json(text, "fuzz/tokenizer.json"));
    } catch (const Error&) {
        return 0;
    }
    static const char* kTexts[] = {"", "Hello world", "  spaces\tand\nnewlines  ", "caf\xC3\xA9 \xF0\x9F\x98\x80 123",
                                   "<|endoftext|>[INIT]<s></s>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (const char* t : kTexts) {
        for (bool special : {false, true}) {
            std::vector<TokenId> ids;
            try {
                ids = tok->encode(t, special);
            } catch (const Error&) {
                continue;  // e.g. an unknown character without unk_token
            }
            // Without special tokens every id is one the tokenizer knows; with
            // them, a TemplateProcessing post-processor adds the ids its own
            // "special_tokens" list names, unchecked (as in HF).
            for (TokenId id : ids)
                if (id < 0 || (!special && id >= tok->id_limit())) std::abort();
            std::string back = tok->decode(ids, false);
            (void)back;
        }
    }
    return 0;
}
