// GPT-2's reversible byte <-> character map ("bytes_to_unicode"): byte-level
// BPE vocabularies spell every byte as a printable character so that token
// strings are valid text. Printable Latin-1 bytes map to themselves; the other
// 68 bytes map to U+0100.. in byte order (so ' ' is 'Ġ' U+0120, '\n' is 'Ċ').
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.h"

namespace aligners::tok {

// Code point that spells byte b.
uint32_t byte_to_char(uint8_t b);
// UTF-8 of the character that spells byte b.
const std::string& byte_to_utf8(uint8_t b);
// Byte spelled by code point cp, or -1 when cp is not one of the 256.
int char_to_byte(uint32_t cp);
// Raw bytes -> byte-level text (each byte becomes its character).
std::string bytes_to_byte_level(std::string_view bytes);
// Byte-level text -> raw bytes. Returns false (and leaves `out` partial) when
// a character is not one of the 256.
bool byte_level_to_bytes(std::string_view text, std::string& out);

// The {"type": "ByteLevel", ...} object of tokenizer.json; HF uses it as
// pre-tokenizer, post-processor and decoder, with different flags.
json::Value byte_level_json(bool add_prefix_space, bool trim_offsets, bool use_regex);

}  // namespace aligners::tok
