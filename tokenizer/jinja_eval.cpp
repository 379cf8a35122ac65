// Rendering a parsed Jinja template: scopes, statements, operators and
// attribute lookup with Jinja2's semantics. Filters, tests, methods and
// globals are in jinja_builtins.cpp.
#include <algorithm>
#include <cmath>

#include "common/utf8.h"

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_builtins.h"

namespace aligners::jinja {

namespace {

enum class Flow { Normal, Break, Continue };

class Renderer : public Evaluator {
public:
    Renderer(const std::string& name, const Value& context) : name_(name) {
        scopes_.push_back(Value::dict());
        for (const auto& [k, v] : globals()) scopes_.back().set(k, v);
        if (context.is_dict())
            for (const auto& [k, v] : context.entries()) scopes_.back().set(k, v);
    }

    std::string render(const Node& root) {
        reset_text_budget();
        std::string out;
        exec_body(root.body, out);
        return out;
    }

    std::string where(int line) const override { return name_ + ":" + std::to_string(line); }

    // Calls a function value (a macro, a global, a bound method).
    Value call(const Value& f, CallArgs& args) override {
        if (!f.is_function()) throw Error(args.where + ": '" + f.type_name() + "' object is not callable");
        return f.fn()(args);
    }

private:
    Value lookup(const std::string& name) const {
        for (size_t i = scopes_.size(); i-- > 0;)
            if (const Value* v = scopes_[i].find(name)) return *v;
        return Value();
    }
    void assign(const std::string& name, Value v) { scopes_.back().set(name, std::move(v)); }

    Flow exec_body(const Body& body, std::string& out) {
        for (const auto& n : body) {
            Flow f = exec(*n, out);
            if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
    }

    // Hostile templates are bounded: steps (no endless loops), nesting of
    // macro calls (no stack exhaustion) and output size.
    static constexpr int64_t kMaxSteps = 2'000'000;  // real chat templates take thousands
    static constexpr int kMaxCallDepth = 100;
    void count_step(const Node& n, const std::string& out) {
        if (++steps_ > kMaxSteps)
            throw Error(where(n.line) + ": the template ran more than " + std::to_string(kMaxSteps) + " steps");
        if (out.size() > kMaxTextBytes)
            throw Error(where(n.line) + ": the template's output exceeds " + std::to_string(kMaxTextBytes) + " bytes");
    }

    Flow exec(const Node& n, std::string& out) {
        count_step(n, out);
        switch (n.kind) {
            case Node::Kind::Root: return exec_body(n.body, out);
            case Node::Kind::Text:
                charge_text(n.text.size(), where(n.line));
                out += n.text;
                return Flow::Normal;
            case Node::Kind::Output: {
                std::string text = eval(*n.expr).str();
                charge_text(text.size(), where(n.line));
                out += text;
                return Flow::Normal;
            }
            case Node::Kind::If:
                for (size_t i = 0; i < n.conds.size(); ++i)
                    if (eval(*n.conds[i]).truthy()) return exec_body(n.bodies[i], out);
                return exec_body(n.else_body, out);
            case Node::Kind::For: return exec_for(n, out);
            case Node::Kind::Set: exec_set(n); return Flow::Normal;
            case Node::Kind::SetBlock: {
                std::string captured;
                exec_body(n.body, captured);
                assign(n.targets[0], Value(captured));
                return Flow::Normal;
            }
            case Node::Kind::Macro: assign(n.targets[0], make_macro(n, nullptr)); return Flow::Normal;
            case Node::Kind::CallBlock: {
                // The call's callee gets `caller`, which renders the block body.
                const Expr& call = *n.expr;
                if (call.op != Expr::Op::Call) throw Error(where(n.line) + ": {% call %} needs a macro call");
                Value callee = eval(*call.items[0]);
                CallArgs args = eval_args(call, 1);
                const Node* body = &n;
                args.kwargs.push_back({"caller", Value::function("caller", [this, body](CallArgs&) {
                                           std::string s;
                                           exec_body(body->body, s);
                                           return Value(s);
                                       })});
                out += call_value(callee, args).str();
                return Flow::Normal;
            }
            case Node::Kind::FilterBlock: {
                std::string captured;
                exec_body(n.body, captured);
                scopes_.push_back(Value::dict());
                assign("__body__", Value(captured));
                out += eval(*n.expr).str();
                scopes_.pop_back();
                return Flow::Normal;
            }
            case Node::Kind::Break: return Flow::Break;
            case Node::Kind::Continue: return Flow::Continue;
        }
        return Flow::Normal;
    }

    void unpack(const std::vector<std::string>& targets, const Value& v, int line) {
        if (targets.size() == 1) {
            assign(targets[0], v);
            return;
        }
        List items = iterate(v, where(line));
        if (items.size() != targets.size())
            throw Error(where(line) + ": cannot unpack " + std::to_string(items.size()) + " values into " +
                        std::to_string(targets.size()) + " names");
        for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
    }

    Flow exec_for(const Node& n, std::string& out) {
        List all = iterate(eval(*n.expr), where(n.line));
        List items;
        if (n.cond) {
            // The inline filter sees each item in a scope of its own.
            for (const auto& v : all) {
                scopes_.push_back(Value::dict());
                unpack(n.targets, v, n.line);
                bool keep = eval(*n.cond).truthy();
                scopes_.pop_back();
                if (keep) items.push_back(v);
            }
        } else {
            items = std::move(all);
        }
        if (items.empty()) return exec_body(n.else_body, out);
        scopes_.push_back(Value::dict());
        const int64_t len = int64_t(items.size());
        // One loop object, updated in place per iteration (its fields are
        // read far more often than a new dict would be worth building).
        auto index = std::make_shared<int64_t>(0);
        Value loop = Value::dict();
        for (const char* k : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem",
                              "nextitem"})
            loop.set(k, Value());
        loop.set("cycle", Value::function("cycle", [index](CallArgs& a) {
                     if (a.args.empty()) throw Error(a.where + ": loop.cycle() needs arguments");
                     return a.args[size_t(*index) % a.args.size()];
                 }));
        Dict& f = loop.entries();
        for (int64_t i = 0; i < len; ++i) {
            count_step(n, out);  // an empty body still costs a step per iteration
            *index = i;
            f[0].second = Value(i + 1);
            f[1].second = Value(i);
            f[2].second = Value(len - i);
            f[3].second = Value(len - i - 1);
            f[4].second = Value(i == 0);
            f[5].second = Value(i == len - 1);
            f[6].second = Value(len);
            f[7].second = i > 0 ? items[size_t(i - 1)] : Value();
            f[8].second = i + 1 < len ? items[size_t(i + 1)] : Value();
            assign("loop", loop);
            unpack(n.targets, items[size_t(i)], n.line);
            Flow f = exec_body(n.body, out);
            if (f == Flow::Break) break;
        }
        scopes_.pop_back();
        return Flow::Normal;
    }

    static bool reaches(const Value& v, const Dict* target, int depth) {
        if (depth > 1000) return true;  // deeper than any template builds: treat as a cycle
        if (v.is_dict()) {
            if (&v.entries() == target) return true;
            for (const auto& e : v.entries())
                if (reaches(e.second, target, depth + 1)) return true;
        } else if (v.is_list()) {
            for (const auto& x : v.items())
                if (reaches(x, target, depth + 1)) return true;
        }
        return false;
    }

    void exec_set(const Node& n) {
        Value v = eval(*n.expr);
        if (!n.text.empty()) {  // {% set ns.attr = v %}
            Value ns = lookup(n.targets[0]);
            if (!ns.is_dict() || !ns.find("__namespace__"))
                throw Error(where(n.line) + ": cannot assign attribute '" + n.text + "' on '" + n.targets[0] +
                            "' (only a namespace() takes attributes)");
            // A namespace holding itself (directly or through another) would
            // be a cycle: printing it would never end, nor would freeing it.
            if (reaches(v, &ns.entries(), 0))
                throw Error(where(n.line) + ": '" + n.targets[0] + "." + n.text + "' would make the namespace contain itself");
            ns.set(n.text, v);
            return;
        }
        unpack(n.targets, v, n.line);
    }

    Value make_macro(const Node& n, const Value* /*unused*/) {
        const Node* node = &n;
        return Value::function(n.targets[0], [this, node](CallArgs& a) {
            if (call_depth_ >= kMaxCallDepth)
                throw Error(a.where + ": macro calls nested deeper than " + std::to_string(kMaxCallDepth));
            ++call_depth_;
            struct Leave {
                int& d;
                ~Leave() { --d; }
            } leave{call_depth_};
            scopes_.push_back(Value::dict());
            for (size_t i = 0; i < node->params.size(); ++i) {
                Value v = a.get(i, node->params[i]);
                if (v.is_undefined() && node->defaults[i]) v = eval(*node->defaults[i]);
                assign(node->params[i], v);
            }
            for (const auto& [k, v] : a.kwargs)
                if (k == "caller") assign("caller", v);
            std::string s;
            exec_body(node->body, s);
            scopes_.pop_back();
            return Value(s);
        });
    }

    Value call_value(const Value& f, CallArgs& args) { return call(f, args); }

    CallArgs eval_args(const Expr& e, size_t first) {
        CallArgs a;
        a.where = where(e.line);
        for (size_t i = first; i < e.items.size(); ++i) a.args.push_back(eval(*e.items[i]));
        for (const auto& [k, x] : e.kwargs) a.kwargs.push_back({k, eval(*x)});
        return a;
    }

    Value eval(const Expr& e) override {
        switch (e.op) {
            case Expr::Op::Literal: return e.value;
            case Expr::Op::Name: return lookup(e.name);
            case Expr::Op::List:
            case Expr::Op::Tuple: {
                List items;
                for (const auto& x : e.items) items.push_back(eval(*x));
                return Value::list(std::move(items));
            }
            case Expr::Op::DictLit: {
                Value d = Value::dict();
                for (size_t i = 0; i < e.items.size(); ++i) {
                    Value k = eval(*e.kwargs[i].second);
                    if (!k.is_string()) throw Error(where(e.line) + ": dict keys must be strings here");
                    d.set(k.as_string(), eval(*e.items[i]));
                }
                return d;
            }
            case Expr::Op::Attr: return get_attr(eval(*e.items[0]), e.name, where(e.line));
            case Expr::Op::Item: return get_item(eval(*e.items[0]), eval(*e.items[1]), where(e.line));
            case Expr::Op::Slice: {
                Value parts[3];
                for (int k = 0; k < 3; ++k)
                    if (e.items[size_t(k) + 1]) parts[k] = eval(*e.items[size_t(k) + 1]);
                return slice(eval(*e.items[0]), parts[0], parts[1], parts[2], where(e.line));
            }
            case Expr::Op::Call: {
                Value f = eval(*e.items[0]);
                CallArgs a = eval_args(e, 1);
                if (f.is_undefined()) throw Error(a.where + ": call of an undefined value");
                return call(f, a);
            }
            case Expr::Op::Filter: {
                CallArgs a = eval_args(e, 1);
                return apply_filter(e.name, eval(*e.items[0]), a, *this);
            }
            case Expr::Op::Test: {
                CallArgs a = eval_args(e, 1);
                bool r = apply_test(e.name, eval(*e.items[0]), a, *this);
                return Value(e.negated ? !r : r);
            }
            case Expr::Op::Unary: {
                Value v = eval(*e.items[0]);
                if (e.name == "not") return Value(!v.truthy());
                if (!v.is_number() && v.kind() != Value::Kind::Bool)
                    throw Error(where(e.line) + ": bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
                if (e.name == "+") return v;
                if (v.kind() == Value::Kind::Float) return Value(-v.as_float());
                if (v.as_int() == INT64_MIN) throw Error(where(e.line) + ": integer overflow (beyond 64 bits)");
                return Value(-v.as_int());
            }
            case Expr::Op::Binary: {
                if (e.name == "and") {
                    Value a = eval(*e.items[0]);
                    return a.truthy() ? eval(*e.items[1]) : a;
                }
                if (e.name == "or") {
                    Value a = eval(*e.items[0]);
                    return a.truthy() ? a : eval(*e.items[1]);
                }
                return binary(e.name, eval(*e.items[0]), eval(*e.items[1]), where(e.line));
            }
            case Expr::Op::Cond:
                if (eval(*e.items[1]).truthy()) return eval(*e.items[0]);
                return e.items[2] ? eval(*e.items[2]) : Value();
        }
        return Value();
    }

    std::string name_;
    std::vector<Value> scopes_;  // dicts, innermost last
    int64_t steps_ = 0;
    int call_depth_ = 0;
};

}  // namespace

Template Template::parse(const std::string& text, const std::string& name) {
    // A template is text (a Python str in transformers): the string methods
    // work on code points and need valid UTF-8.
    size_t bad = 0;
    if (!valid_utf8(text, &bad))
        throw Error(name + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + long(bad), '\n')) +
                    ": not valid UTF-8 (byte " + std::to_string(bad) + ")");
    Template t;
    t.name_ = name;
    t.root_ = parse_template(text, name);
    return t;
}

std::string Template::render(const Value& context) const {
    if (!root_) throw Error(name_ + ": template not parsed");
    Renderer r(name_, context);
    return r.render(*root_);
}

}  // namespace aligners::jinja
