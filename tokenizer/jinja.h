// A Jinja2 interpreter for chat templates: the subset that Hugging Face chat
// templates use, with the semantics transformers renders them with
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop controls,
// keep_trailing_newline off, the default lenient Undefined).
//
//   jinja::Template t = jinja::Template::parse(text, "chat_template.jinja");
//   jinja::Value ctx = jinja::Value::dict();
//   ctx.set("messages", jinja::Value::from_json(messages_json));
//   std::string prompt = t.render(ctx);
//
// Supported: {{ }}, {% %}, {# #} with '-' whitespace control; if/elif/else,
// for (tuple targets, loop.*, else, inline if, break/continue), set (also
// namespace attributes and {% set x %}...{% endset %}), macro and call,
// filter blocks, generation blocks (rendered as plain content); literals,
// lists, dicts, tuples, attribute/item access, slices, calls with keyword
// arguments, filters, tests, Python's operators, the methods of str, dict
// and list that templates call, and the globals namespace(), range(),
// raise_exception(), strftime_now(), dict().
// Anything else is a jinja::Error naming the template, line and construct.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace aligners::jinja {

struct Error : aligners::Error {
    using aligners::Error::Error;
};

class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // insertion order, as Python's dict

struct CallArgs;
using Function = std::function<Value(CallArgs&)>;

class Value {
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

    Value() = default;  // undefined
    static Value none() { return Value(Kind::None); }
    Value(bool b) : kind_(Kind::Bool), i_(b) {}
    Value(int i) : kind_(Kind::Int), i_(i) {}
    Value(int64_t i) : kind_(Kind::Int), i_(i) {}
    Value(double d) : kind_(Kind::Float), f_(d) {}
    Value(const char* s) : kind_(Kind::String), s_(s) {}
    Value(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
    static Value list(List items = {});
    static Value dict(Dict items = {});
    static Value function(std::string name, Function fn);
    static Value from_json(const json::Value& v);

    Kind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == Kind::Undefined; }
    bool is_none() const { return kind_ == Kind::None; }
    bool is_string() const { return kind_ == Kind::String; }
    bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }
    bool is_list() const { return kind_ == Kind::List; }
    bool is_dict() const { return kind_ == Kind::Dict; }
    bool is_function() const { return kind_ == Kind::Function; }

    bool as_bool() const { return i_ != 0; }
    int64_t as_int() const { return i_; }
    double as_float() const { return kind_ == Kind::Int ? double(i_) : f_; }
    const std::string& as_string() const { return s_; }
    // Lists and dicts are shared, as Python's are: a namespace() set inside a
    // loop is seen after it.
    List& items() const { return *list_; }
    Dict& entries() const { return *dict_; }
    const Function& fn() const { return *fn_; }
    const std::string& fn_name() const { return s_; }

    // Dict access: nullptr when absent.
    const Value* find(const std::string& key) const;
    void set(const std::string& key, Value v);

    bool truthy() const;
    // str(value) as Python prints it ("None", "True", "1.5", "['a', 1]").
    std::string str() const;
    // repr(value): strings quoted.
    std::string repr() const;
    const char* type_name() const;

private:
    explicit Value(Kind k) : kind_(k) {}
    Kind kind_ = Kind::Undefined;
    int64_t i_ = 0;
    double f_ = 0;
    std::string s_;
    std::shared_ptr<List> list_;
    std::shared_ptr<Dict> dict_;
    std::shared_ptr<Function> fn_;
};

// Python equality (1 == 1.0, deep on lists and dicts).
bool equal(const Value& a, const Value& b);

// Arguments of a call: positional, then keyword.
struct CallArgs {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
    std::string where;  // "<template>:<line>" for errors
    // The i-th positional or the keyword `name`, else `fallback`.
    Value get(size_t i, const std::string& name, Value fallback = Value()) const;
};

// json.dumps as transformers' tojson filter calls it: ensure_ascii off by
// default; indent < 0 is None; separators default to (", ", ": "), or
// (",", ": ") with an indent.
struct JsonStyle {
    int indent = -1;
    bool sort_keys = false;
    bool ensure_ascii = false;
    std::string item_sep, key_sep;  // "" = the default for the indent
};
std::string to_json(const Value& v, const JsonStyle& style = {});

struct Node;

class Template {
public:
    // Parses once; `name` labels errors.
    static Template parse(const std::string& text, const std::string& name = "template");
    // Renders with the variables of `context` (a dict). Undefined names are
    // undefined (empty when printed), as in Jinja2's default environment.
    std::string render(const Value& context) const;

private:
    std::string name_;
    std::shared_ptr<const Node> root_;
};

}  // namespace aligners::jinja
