// The parts of Jinja2 and Python a chat template reaches through values:
// operators, attribute and item lookup, iteration, filters, tests, the
// methods of str/dict/list, and the globals (internal to tokenizer/jinja_*).
#pragma once
#include <string>

#include "tokenizer/jinja_ast.h"

namespace aligners::jinja {

// The longest string a template may build (output, concatenation,
// repetition): bounded so a hostile template cannot exhaust memory.
constexpr size_t kMaxTextBytes = size_t(64) << 20;
// All the text one render may build, summed (so a loop cannot rebuild a
// large string millions of times); charge_text() counts and checks both.
constexpr size_t kMaxBuiltBytes = size_t(256) << 20;
void reset_text_budget();
void charge_text(size_t bytes, const std::string& where);

// What filters and tests need from the renderer: evaluating and calling.
class Evaluator {
public:
    virtual ~Evaluator() = default;
    virtual Value eval(const Expr& e) = 0;
    virtual Value call(const Value& f, CallArgs& args) = 0;
    virtual std::string where(int line) const = 0;
};

// namespace, range, raise_exception, strftime_now, dict.
const Dict& globals();

// a.name: for a dict, its method of that name (items, keys, values, get)
// first, then the key; for str and list, the method; else undefined.
// Attribute access on an undefined value is an error, as in Jinja2.
Value get_attr(const Value& obj, const std::string& name, const std::string& where);
// a[key]: list/str by (negative) index, dict by key; undefined when absent.
Value get_item(const Value& obj, const Value& key, const std::string& where);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, const std::string& where);
Value binary(const std::string& op, const Value& a, const Value& b, const std::string& where);
// The items a for loop sees: a list's items, a dict's keys, a string's characters.
List iterate(const Value& v, const std::string& where);

Value apply_filter(const std::string& name, const Value& v, CallArgs& args, Evaluator& ev);
bool apply_test(const std::string& name, const Value& v, CallArgs& args, Evaluator& ev);

}  // namespace aligners::jinja
