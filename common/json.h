// A strict RFC 8259 JSON parser and writer.
//
// - UTF-8 is validated (RFC 3629: no overlongs, no surrogates, <= U+10FFFF);
//   `\u` escapes are decoded, surrogate pairs combined, lone surrogates rejected.
// - Numbers stay exact: an integer literal that fits in int64 is an Int, every
//   other number a Double (correctly rounded by std::from_chars).
// - Objects keep their members in file order (a vector, not a map), so files
//   round-trip. A duplicate key is an error with reject_duplicate_keys; by
//   default the last value wins, kept at the first key's position (as
//   Python's json and Hugging Face's loaders do).
// - Nesting depth is limited (default 512) instead of recursing without bound.
// - Errors name the byte offset, line and column, and what was expected.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.h"

namespace aligners::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

enum class Type : uint8_t { Null, Bool, Int, Double, String, Array, Object };
const char* type_name(Type t);

// Thrown for malformed text. what() is "line L, column C (byte B): message".
struct ParseError : Error {
    ParseError(const std::string& what, size_t offset, size_t line, size_t column)
        : Error(what), offset(offset), line(line), column(column) {}
    size_t offset, line, column;  // offset is 0-based, line and column 1-based
};

class Value {
public:
    Value() = default;  // null
    Value(std::nullptr_t) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(int64_t(i)) {}
    Value(int64_t i) : v_(i) {}
    Value(uint64_t i);  // stored as Int if it fits, else Double
    Value(double d) : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(Array a) : v_(std::move(a)) {}
    Value(Object o) : v_(std::move(o)) {}

    static Value array() { return Value(Array{}); }
    static Value object() { return Value(Object{}); }

    Type type() const { return Type(v_.index()); }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_int() const { return type() == Type::Int; }
    bool is_number() const { return type() == Type::Int || type() == Type::Double; }
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // Typed access; a wrong type throws Error("expected <type>, got <type>").
    bool as_bool() const;
    int64_t as_int() const;    // Int only (a Double with an integral value is accepted)
    double as_double() const;  // Int or Double
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    // Object helpers. find() returns nullptr when absent (or not an object).
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    // Member access; throws Error("missing key ...") when absent.
    const Value& operator[](std::string_view key) const;
    // Element access; throws Error when not an array or out of range. (It
    // also keeps v[0] from meaning v[std::string_view(nullptr)].)
    const Value& operator[](size_t index) const;
    // Inserts or replaces; returns the stored value.
    Value& set(std::string key, Value v);
    // Array helper.
    void push_back(Value v) { as_array().push_back(std::move(v)); }
    size_t size() const;  // members of an object, elements of an array

    bool operator==(const Value& other) const = default;

private:
    std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

struct ParseOptions {
    int max_depth = 512;
    bool reject_duplicate_keys = false;
};

Value parse(std::string_view text, const ParseOptions& options = {});
// A parse error of one line of a JSON Lines file, without the line number
// (the caller's "<file>:<line>: " already says it): "column 5 (byte 4): ...".
std::string jsonl_error(const ParseError& e);
// Reads and parses a file; errors are prefixed with the path.
Value parse_file(const std::string& path, const ParseOptions& options = {});

struct DumpOptions {
    int indent = -1;         // < 0: compact, one line
    bool ascii_only = false; // escape every non-ASCII character as \uXXXX
};
std::string dump(const Value& v, const DumpOptions& options = {});
void dump_to(std::string& out, const Value& v, const DumpOptions& options = {});
// Appends `s` as a quoted JSON string.
void dump_string(std::string& out, std::string_view s, bool ascii_only = false);

// Field access for config-style objects, with errors that name the place:
// "<where>: field 'key': expected integer, got string" / "... is missing".
const Value& get(const Value& obj, std::string_view key, std::string_view where);
int64_t get_int(const Value& obj, std::string_view key, std::string_view where);
int64_t get_int(const Value& obj, std::string_view key, std::string_view where, int64_t fallback);
double get_double(const Value& obj, std::string_view key, std::string_view where);
double get_double(const Value& obj, std::string_view key, std::string_view where, double fallback);
bool get_bool(const Value& obj, std::string_view key, std::string_view where, bool fallback);
std::string get_string(const Value& obj, std::string_view key, std::string_view where);
std::string get_string(const Value& obj, std::string_view key, std::string_view where, std::string_view fallback);

}  // namespace aligners::json
