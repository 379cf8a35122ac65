// Jinja template text -> syntax tree (tokenizer/jinja_ast.h).
//
// Two passes, as Jinja2's lexer and parser: split the text into text, {{ }}
// and {% %} chunks (applying '-' whitespace control, trim_blocks and
// lstrip_blocks exactly where Jinja2 does), then parse each tag's
// expression with Jinja2's precedence (condexpr < or < and < not < compare <
// + - < ~ < * / // % < ** < unary < filters/tests < postfix).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "common/utf8.h"
#include "tokenizer/jinja_ast.h"

namespace aligners::jinja {

namespace {

struct Chunk {
    enum Kind { Text, Var, Block } kind;
    std::string text;  // Text: the text; Var/Block: the source between the delimiters
    int line = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Finds the closing delimiter of a tag that starts at `from`, skipping string
// literals (so "{{ '}}' }}" closes at the second "}}").
size_t find_close(const std::string& s, size_t from, const char* close) {
    char quote = 0;
    for (size_t i = from; i + 1 < s.size(); ++i) {
        char c = s[i];
        if (quote) {
            if (c == '\\') ++i;
            else if (c == quote) quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') quote = c;
        else if (c == close[0] && s[i + 1] == close[1]) return i;
    }
    return std::string::npos;
}

std::vector<Chunk> split_chunks(std::string src, const std::string& name) {
    // Newlines are normalised to \n and one trailing newline is dropped
    // (keep_trailing_newline=False), as Jinja2's lexer does.
    std::string norm;
    norm.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            norm += '\n';
            if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
        } else {
            norm += src[i];
        }
    }
    if (!norm.empty() && norm.back() == '\n') norm.pop_back();
    src = std::move(norm);

    std::vector<Chunk> out;
    size_t pos = 0;
    int line = 1;
    bool strip_next = false;  // the previous tag ended with '-'
    bool trim_next = false;   // the previous tag was a block or comment (trim_blocks)
    auto count_lines = [&](size_t a, size_t b) {
        for (size_t i = a; i < b; ++i) line += src[i] == '\n';
    };
    while (pos <= src.size()) {
        size_t open = std::string::npos;
        for (size_t i = src.find('{', pos); i != std::string::npos && i + 1 < src.size(); i = src.find('{', i + 1))
            if (src[i + 1] == '{' || src[i + 1] == '%' || src[i + 1] == '#') {
                open = i;
                break;
            }
        std::string text = src.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
        int text_line = line;
        count_lines(pos, open == std::string::npos ? src.size() : open);
        if (strip_next) {
            size_t k = 0;
            while (k < text.size() && is_space(text[k])) ++k;
            text.erase(0, k);
        } else if (trim_next && !text.empty() && text[0] == '\n') {
            text.erase(0, 1);
        }
        strip_next = trim_next = false;
        if (open == std::string::npos) {
            if (!text.empty()) out.push_back({Chunk::Text, text, text_line});
            break;
        }
        char kind = src[open + 1];
        size_t inner = open + 2;
        bool strip_before = inner < src.size() && src[inner] == '-';
        bool plus = inner < src.size() && src[inner] == '+';
        if (strip_before || plus) ++inner;
        if (strip_before) {
            while (!text.empty() && is_space(text.back())) text.pop_back();
        } else if (kind != '{' && !plus) {
            // lstrip_blocks: spaces and tabs between the start of a line (in
            // the source) and the tag are removed.
            size_t k = open;
            while (k > pos && (src[k - 1] == ' ' || src[k - 1] == '\t')) --k;
            if (k == 0 || src[k - 1] == '\n') text.resize(text.size() - std::min(text.size(), open - k));
        }
        if (!text.empty()) out.push_back({Chunk::Text, text, text_line});
        int tag_line = line;
        const char* close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
        size_t end = kind == '#' ? src.find("#}", inner) : find_close(src, inner, close);
        if (end == std::string::npos)
            throw Error(name + ":" + std::to_string(tag_line) + ": unclosed '" + src.substr(open, 2) + "' (expected '" +
                        close + "')");
        std::string body = src.substr(inner, end - inner);
        if (!body.empty() && body.back() == '-' && kind != '#') {
            body.pop_back();
            strip_next = true;
        } else if (kind == '#' && !body.empty() && body.back() == '-') {
            strip_next = true;
        }
        if (kind != '{' && !strip_next) trim_next = true;
        count_lines(open, end + 2);
        pos = end + 2;
        if (kind == '#') continue;
        // {% raw %} ... {% endraw %}: the text in between, verbatim.
        std::string word = body;
        while (!word.empty() && is_space(word.front())) word.erase(0, 1);
        while (!word.empty() && is_space(word.back())) word.pop_back();
        if (kind == '%' && word == "raw") {
            size_t e = src.find("endraw", pos);
            size_t tag = e == std::string::npos ? e : src.rfind("{%", e);
            if (tag == std::string::npos) throw Error(name + ":" + std::to_string(tag_line) + ": unclosed raw block");
            std::string raw = src.substr(pos, tag - pos);
            bool minus = tag + 2 < src.size() && src[tag + 2] == '-';
            if (minus)
                while (!raw.empty() && is_space(raw.back())) raw.pop_back();
            size_t close_at = src.find("%}", e);
            if (close_at == std::string::npos) throw Error(name + ":" + std::to_string(tag_line) + ": unclosed endraw");
            strip_next = close_at > 0 && src[close_at - 1] == '-';
            trim_next = !strip_next;
            if (!raw.empty()) out.push_back({Chunk::Text, raw, tag_line});
            count_lines(pos, close_at + 2);
            pos = close_at + 2;
            continue;
        }
        out.push_back({kind == '{' ? Chunk::Var : Chunk::Block, body, tag_line});
    }
    return out;
}

// ---- expression tokens ----------------------------------------------------------

struct Tok {
    enum Kind { Name, Int, Float, Str, Op, End } kind = End;
    std::string text;
    Value value;
};

std::vector<Tok> lex_expr(const std::string& s, const std::string& where) {
    std::vector<Tok> out;
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (is_space(c)) {
            ++i;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t j = i;
            while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
            out.push_back({Tok::Name, s.substr(i, j - i), {}});
            i = j;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            size_t j = i;
            bool is_float = false;
            while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
            if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
                is_float = true;
                ++j;
                while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
            }
            if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
                if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
                    is_float = true;
                    j = k;
                    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
                }
            }
            std::string num;
            for (size_t k = i; k < j; ++k)
                if (s[k] != '_') num += s[k];
            Tok t;
            t.text = num;
            if (is_float) {
                t.kind = Tok::Float;
                // strtod, not stod: a literal past double's range is inf, as Python's float() makes it.
                t.value = Value(std::strtod(num.c_str(), nullptr));
            } else {
                int64_t v = 0;
                auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
                if (ec != std::errc()) throw Error(where + ": integer literal out of range: " + num);
                t.kind = Tok::Int;
                t.value = Value(v);
            }
            out.push_back(t);
            i = j;
            continue;
        }
        if (c == '\'' || c == '"') {
            std::string v;
            size_t j = i + 1;
            for (; j < s.size() && s[j] != c; ++j) {
                if (s[j] != '\\' || j + 1 >= s.size()) {
                    v += s[j];
                    continue;
                }
                char e = s[++j];
                // Python's unicode-escape, as Jinja2 decodes string literals.
                auto hex = [&](int digits) {
                    uint32_t cp = 0;
                    for (int k = 0; k < digits; ++k) {
                        char h = j + 1 < s.size() ? s[j + 1] : '\0';
                        int d = std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                : (h >= 'a' && h <= 'f')                   ? h - 'a' + 10
                                : (h >= 'A' && h <= 'F')                   ? h - 'A' + 10
                                                                           : -1;
                        if (d < 0) throw Error(where + ": truncated \\" + std::string(1, e) + " escape in a string literal");
                        cp = cp * 16 + uint32_t(d);
                        ++j;
                    }
                    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        throw Error(where + ": \\" + std::string(1, e) + " escape out of range in a string literal");
                    append_utf8(v, cp);
                };
                switch (e) {
                    case 'n': v += '\n'; break;
                    case 't': v += '\t'; break;
                    case 'r': v += '\r'; break;
                    case 'a': v += '\a'; break;
                    case 'b': v += '\b'; break;
                    case 'f': v += '\f'; break;
                    case 'v': v += '\v'; break;
                    case '\\': v += '\\'; break;
                    case '\'': v += '\''; break;
                    case '"': v += '"'; break;
                    case 'x': hex(2); break;
                    case 'u': hex(4); break;
                    case 'U': hex(8); break;
                    case '\n': break;  // line continuation
                    default:
                        if (e >= '0' && e <= '7') {  // octal, up to three digits
                            uint32_t cp = uint32_t(e - '0');
                            for (int k = 0; k < 2 && j + 1 < s.size() && s[j + 1] >= '0' && s[j + 1] <= '7'; ++k)
                                cp = cp * 8 + uint32_t(s[++j] - '0');
                            append_utf8(v, cp);
                        } else {
                            v += '\\';  // Python keeps unknown escapes
                            v += e;
                        }
                }
            }
            if (j >= s.size()) throw Error(where + ": unterminated string literal");
            out.push_back({Tok::Str, "", Value(v)});
            i = j + 1;
            continue;
        }
        static const char* kOps[] = {"==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/", "%",
                                     "~",  "|",  ".",  ",",  ":",  "(", ")", "[", "]", "{", "}", "="};
        bool matched = false;
        for (const char* op : kOps) {
            size_t n = std::char_traits<char>::length(op);
            if (s.compare(i, n, op) == 0) {
                out.push_back({Tok::Op, op, {}});
                i += n;
                matched = true;
                break;
            }
        }
        if (!matched) throw Error(where + ": unexpected character '" + std::string(1, c) + "'");
    }
    out.push_back({Tok::End, "", {}});
    return out;
}

// ---- expression parser ----------------------------------------------------------

class ExprParser {
public:
    ExprParser(std::vector<Tok> toks, std::string where, int line)
        : t_(std::move(toks)), where_(std::move(where)), line_(line) {}

    bool at_end() const { return t_[p_].kind == Tok::End; }
    bool peek_name(const char* n, size_t ahead = 0) const {
        return p_ + ahead < t_.size() && t_[p_ + ahead].kind == Tok::Name && t_[p_ + ahead].text == n;
    }
    bool peek_op(const char* o) const { return t_[p_].kind == Tok::Op && t_[p_].text == o; }
    bool skip_name(const char* n) {
        if (!peek_name(n)) return false;
        ++p_;
        return true;
    }
    bool skip_op(const char* o) {
        if (!peek_op(o)) return false;
        ++p_;
        return true;
    }
    void expect_op(const char* o) {
        if (!skip_op(o)) fail(std::string("expected '") + o + "'");
    }
    std::string expect_name() {
        if (t_[p_].kind != Tok::Name) fail("expected a name");
        return t_[p_++].text;
    }
    void expect_end() {
        if (!at_end()) fail("unexpected '" + describe(t_[p_]) + "'");
    }
    [[noreturn]] void fail(const std::string& msg) const {
        throw Error(where_ + ": " + msg + (at_end() ? " at the end of the tag" : ""));
    }

    // A tuple without parentheses ("a, b") or one expression.
    ExprPtr parse_tuple(bool with_condexpr = true) {
        ExprPtr first = with_condexpr ? parse_expr() : parse_or();
        if (!peek_op(",")) return first;
        auto t = make(Expr::Op::Tuple);
        t->items.push_back(first);
        while (skip_op(",")) {
            if (at_end() || peek_op(")") || peek_op("]") || peek_name("if")) break;
            t->items.push_back(with_condexpr ? parse_expr() : parse_or());
        }
        return t;
    }

    ExprPtr parse_expr() {
        // Nesting is bounded so hostile text cannot exhaust the stack.
        if (++depth_ > kMaxDepth) fail("expression nested deeper than " + std::to_string(kMaxDepth));
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        ExprPtr a = parse_or();
        while (skip_name("if")) {
            auto c = make(Expr::Op::Cond);
            c->items.push_back(a);
            c->items.push_back(parse_or());
            c->items.push_back(skip_name("else") ? parse_expr() : nullptr);
            a = c;
        }
        return a;
    }

private:
    std::shared_ptr<Expr> make(Expr::Op op) {
        auto e = std::make_shared<Expr>();
        e->op = op;
        e->line = line_;
        return e;
    }
    ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b) {
        auto e = make(Expr::Op::Binary);
        e->name = op;
        e->items = {std::move(a), std::move(b)};
        return e;
    }
    static std::string describe(const Tok& t) {
        if (t.kind == Tok::Str) return "string";
        if (t.kind == Tok::End) return "end";
        return t.text;
    }

    ExprPtr parse_or() {
        ExprPtr a = parse_and();
        while (skip_name("or")) a = binary("or", a, parse_and());
        return a;
    }
    ExprPtr parse_and() {
        ExprPtr a = parse_not();
        while (skip_name("and")) a = binary("and", a, parse_not());
        return a;
    }
    ExprPtr parse_not() {
        if (skip_name("not")) {
            auto e = make(Expr::Op::Unary);
            e->name = "not";
            e->items.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }
    // Chained comparisons: a < b < c is (a < b) and (b < c).
    ExprPtr parse_compare() {
        ExprPtr a = parse_math1();
        ExprPtr result;
        for (;;) {
            std::string op;
            if (t_[p_].kind == Tok::Op && (peek_op("==") || peek_op("!=") || peek_op("<") || peek_op(">") ||
                                           peek_op("<=") || peek_op(">="))) {
                op = t_[p_++].text;
            } else if (skip_name("in")) {
                op = "in";
            } else if (peek_name("not") && peek_name("in", 1)) {
                p_ += 2;
                op = "not in";
            } else {
                break;
            }
            ExprPtr b = parse_math1();
            ExprPtr cmp = binary(op, a, b);
            result = result ? binary("and", result, cmp) : cmp;
            a = b;
        }
        return result ? result : a;
    }
    ExprPtr parse_math1() {
        ExprPtr a = parse_concat();
        while (peek_op("+") || peek_op("-")) {
            std::string op = t_[p_++].text;
            a = binary(op, a, parse_concat());
        }
        return a;
    }
    ExprPtr parse_concat() {
        ExprPtr a = parse_math2();
        while (skip_op("~")) a = binary("~", a, parse_math2());
        return a;
    }
    ExprPtr parse_math2() {
        ExprPtr a = parse_pow();
        while (peek_op("*") || peek_op("/") || peek_op("//") || peek_op("%")) {
            std::string op = t_[p_++].text;
            a = binary(op, a, parse_pow());
        }
        return a;
    }
    ExprPtr parse_pow() {
        ExprPtr a = parse_unary(true);
        while (skip_op("**")) a = binary("**", a, parse_unary(true));
        return a;
    }
    ExprPtr parse_unary(bool with_filter) {
        if (++depth_ > kMaxDepth) fail("expression nested deeper than " + std::to_string(kMaxDepth));
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        ExprPtr node;
        if (peek_op("-") || peek_op("+")) {
            auto e = make(Expr::Op::Unary);
            e->name = t_[p_++].text;
            e->items.push_back(parse_unary(false));
            node = e;
        } else {
            node = parse_primary();
        }
        node = parse_postfix(node);
        if (with_filter) node = parse_filter_expr(node);
        return node;
    }
    ExprPtr parse_primary() {
        const Tok& t = t_[p_];
        if (t.kind == Tok::Name) {
            ++p_;
            if (t.text == "true" || t.text == "True") return literal(Value(true));
            if (t.text == "false" || t.text == "False") return literal(Value(false));
            if (t.text == "none" || t.text == "None") return literal(Value::none());
            auto e = make(Expr::Op::Name);
            e->name = t.text;
            return e;
        }
        if (t.kind == Tok::Str) {
            std::string s;
            while (t_[p_].kind == Tok::Str) s += t_[p_++].value.as_string();  // adjacent literals concatenate
            return literal(Value(s));
        }
        if (t.kind == Tok::Int || t.kind == Tok::Float) {
            ++p_;
            return literal(t.value);
        }
        if (skip_op("(")) {
            if (skip_op(")")) return make(Expr::Op::Tuple);
            ExprPtr first = parse_expr();
            if (skip_op(")")) return first;
            auto tup = make(Expr::Op::Tuple);
            tup->items.push_back(first);
            while (skip_op(",")) {
                if (peek_op(")")) break;
                tup->items.push_back(parse_expr());
            }
            expect_op(")");
            return tup;
        }
        if (skip_op("[")) {
            auto list = make(Expr::Op::List);
            while (!peek_op("]")) {
                list->items.push_back(parse_expr());
                if (!skip_op(",")) break;
            }
            expect_op("]");
            return list;
        }
        if (skip_op("{")) {
            auto dict = make(Expr::Op::DictLit);
            while (!peek_op("}")) {
                ExprPtr k = parse_expr();
                expect_op(":");
                dict->kwargs.push_back({"", k});
                dict->items.push_back(parse_expr());
                if (!skip_op(",")) break;
            }
            expect_op("}");
            return dict;
        }
        fail("unexpected '" + describe(t) + "'");
    }
    ExprPtr literal(Value v) {
        auto e = make(Expr::Op::Literal);
        e->value = std::move(v);
        return e;
    }
    ExprPtr parse_postfix(ExprPtr node) {
        for (;;) {
            if (skip_op(".")) {
                auto e = make(Expr::Op::Attr);
                if (t_[p_].kind == Tok::Int) {  // foo.0 is foo[0]
                    e->op = Expr::Op::Item;
                    e->items = {node, literal(t_[p_++].value)};
                } else {
                    e->name = expect_name();
                    e->items = {node};
                }
                node = e;
            } else if (skip_op("[")) {
                node = parse_subscript(node);
            } else if (peek_op("(")) {
                node = parse_call(node, Expr::Op::Call, "");
            } else {
                return node;
            }
        }
    }
    ExprPtr parse_subscript(ExprPtr node) {
        ExprPtr parts[3];
        bool slice = false;
        int k = 0;
        for (;;) {
            if (peek_op(":")) {
                ++p_;
                slice = true;
                if (++k > 2) fail("too many ':' in a slice");
                continue;
            }
            if (peek_op("]")) break;
            if (parts[k]) fail("expected ':' or ']'");
            parts[k] = parse_expr();
        }
        expect_op("]");
        auto e = make(slice ? Expr::Op::Slice : Expr::Op::Item);
        e->items.push_back(node);
        if (slice) e->items.insert(e->items.end(), {parts[0], parts[1], parts[2]});
        else {
            if (!parts[0]) fail("empty subscript");
            e->items.push_back(parts[0]);
        }
        return e;
    }
    // "(" args ")" after a callee, a filter or a test: items[0] = target.
    ExprPtr parse_call(ExprPtr target, Expr::Op op, const std::string& name) {
        auto e = make(op);
        e->name = name;
        e->items.push_back(target);
        expect_op("(");
        while (!peek_op(")")) {
            if (t_[p_].kind == Tok::Name && t_[p_ + 1].kind == Tok::Op && t_[p_ + 1].text == "=") {
                std::string key = t_[p_].text;
                p_ += 2;
                e->kwargs.push_back({key, parse_expr()});
            } else {
                if (!e->kwargs.empty()) fail("positional argument after a keyword argument");
                e->items.push_back(parse_expr());
            }
            if (!skip_op(",")) break;
        }
        expect_op(")");
        return e;
    }
    ExprPtr parse_filter_expr(ExprPtr node) {
        for (;;) {
            if (skip_op("|")) {
                std::string name = expect_name();
                if (peek_op("(")) {
                    node = parse_call(node, Expr::Op::Filter, name);
                } else {
                    auto e = make(Expr::Op::Filter);
                    e->name = name;
                    e->items.push_back(node);
                    node = e;
                }
            } else if (skip_name("is")) {
                bool negated = skip_name("not");
                std::string name = expect_name();
                std::shared_ptr<Expr> e;
                if (peek_op("(")) {
                    auto call = parse_call(node, Expr::Op::Test, name);
                    e = std::const_pointer_cast<Expr>(call);
                } else {
                    e = make(Expr::Op::Test);
                    e->name = name;
                    e->items.push_back(node);
                    const Tok& t = t_[p_];
                    bool arg_follows = (t.kind == Tok::Name || t.kind == Tok::Str || t.kind == Tok::Int ||
                                        t.kind == Tok::Float || peek_op("[") || peek_op("{")) &&
                                       !peek_name("else") && !peek_name("or") && !peek_name("and") &&
                                       !peek_name("if") && !peek_name("in") && !peek_name("is") && !peek_name("not");
                    if (arg_follows) e->items.push_back(parse_postfix(parse_primary()));
                }
                e->negated = negated;
                node = e;
            } else if (peek_op("(")) {
                node = parse_call(node, Expr::Op::Call, "");
            } else {
                return node;
            }
        }
    }

    static constexpr int kMaxDepth = 200;
    std::vector<Tok> t_;
    size_t p_ = 0;
    std::string where_;
    int line_;
    int depth_ = 0;
};

// ---- statements -----------------------------------------------------------------

class TemplateParser {
public:
    TemplateParser(std::vector<Chunk> chunks, std::string name) : c_(std::move(chunks)), name_(std::move(name)) {}

    NodePtr parse() {
        auto root = std::make_shared<Node>();
        root->kind = Node::Kind::Root;
        std::string end;
        root->body = parse_body({}, &end, 0);
        return root;
    }

private:
    std::string where(int line) const { return name_ + ":" + std::to_string(line); }
    ExprParser expr_parser(const std::string& src, int line) { return ExprParser(lex_expr(src, where(line)), where(line), line); }
    static std::string first_word(const std::string& s, std::string* rest) {
        size_t i = 0;
        while (i < s.size() && is_space(s[i])) ++i;
        size_t j = i;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
        *rest = s.substr(j);
        return s.substr(i, j - i);
    }

    // Parses nodes until a block tag whose first word is in `ends`; that
    // word goes to *end and the tag's remaining text to rest_.
    Body parse_body(const std::vector<std::string>& ends, std::string* end, int open_line) {
        if (++depth_ > 200) throw Error(where(open_line) + ": blocks nested deeper than 200");
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        Body body;
        while (i_ < c_.size()) {
            const Chunk& ch = c_[i_++];
            if (ch.kind == Chunk::Text) {
                auto n = std::make_shared<Node>();
                n->kind = Node::Kind::Text;
                n->text = ch.text;
                n->line = ch.line;
                body.push_back(n);
                continue;
            }
            if (ch.kind == Chunk::Var) {
                ExprParser p = expr_parser(ch.text, ch.line);
                auto n = std::make_shared<Node>();
                n->kind = Node::Kind::Output;
                n->line = ch.line;
                n->expr = p.parse_tuple();
                p.expect_end();
                body.push_back(n);
                continue;
            }
            std::string rest;
            std::string word = first_word(ch.text, &rest);
            for (const auto& e : ends)
                if (word == e) {
                    *end = word;
                    rest_ = rest;
                    line_ = ch.line;
                    return body;
                }
            body.push_back(parse_statement(word, rest, ch.line));
        }
        if (!ends.empty()) {
            std::string names;
            for (const auto& e : ends) names += (names.empty() ? "'" : " or '") + e + "'";
            throw Error(where(open_line) + ": block not closed (expected " + names + " before the end of the template)");
        }
        return body;
    }

    NodePtr parse_statement(const std::string& word, const std::string& rest, int line) {
        auto n = std::make_shared<Node>();
        n->line = line;
        if (word == "if") {
            n->kind = Node::Kind::If;
            std::string cond_src = rest;
            for (;;) {
                ExprParser p = expr_parser(cond_src, line_ = line);
                n->conds.push_back(p.parse_tuple());
                p.expect_end();
                std::string end;
                n->bodies.push_back(parse_body({"elif", "else", "endif"}, &end, line));
                if (end == "elif") {
                    cond_src = rest_;
                    line = line_;
                    continue;
                }
                if (end == "else") {
                    n->else_body = parse_body({"endif"}, &end, line);
                }
                break;
            }
            return n;
        }
        if (word == "for") {
            n->kind = Node::Kind::For;
            ExprParser p = expr_parser(rest, line);
            bool paren = p.skip_op("(");
            do n->targets.push_back(p.expect_name());
            while (p.skip_op(","));
            if (paren) p.expect_op(")");
            if (!p.skip_name("in")) p.fail("expected 'in' in the for loop");
            n->expr = p.parse_tuple(false);
            if (p.skip_name("if")) n->cond = p.parse_expr();
            if (p.skip_name("recursive")) p.fail("recursive loops are not supported");
            p.expect_end();
            std::string end;
            n->body = parse_body({"else", "endfor"}, &end, line);
            if (end == "else") n->else_body = parse_body({"endfor"}, &end, line);
            return n;
        }
        if (word == "set") {
            ExprParser p = expr_parser(rest, line);
            std::string target = p.expect_name();
            if (p.skip_op(".")) {
                n->text = p.expect_name();  // namespace attribute
            }
            n->targets.push_back(target);
            while (n->text.empty() && p.skip_op(",")) n->targets.push_back(p.expect_name());
            if (p.at_end()) {
                if (n->targets.size() != 1 || !n->text.empty()) p.fail("a block set takes one name");
                n->kind = Node::Kind::SetBlock;
                std::string end;
                n->body = parse_body({"endset"}, &end, line);
                return n;
            }
            n->kind = Node::Kind::Set;
            p.expect_op("=");
            n->expr = p.parse_tuple();
            p.expect_end();
            return n;
        }
        if (word == "macro") {
            n->kind = Node::Kind::Macro;
            ExprParser p = expr_parser(rest, line);
            n->targets.push_back(p.expect_name());
            p.expect_op("(");
            while (!p.peek_op(")")) {
                n->params.push_back(p.expect_name());
                n->defaults.push_back(p.skip_op("=") ? p.parse_expr() : nullptr);
                if (!p.skip_op(",")) break;
            }
            p.expect_op(")");
            p.expect_end();
            std::string end;
            n->body = parse_body({"endmacro"}, &end, line);
            return n;
        }
        if (word == "call") {
            n->kind = Node::Kind::CallBlock;
            ExprParser p = expr_parser(rest, line);
            n->expr = p.parse_expr();
            p.expect_end();
            std::string end;
            n->body = parse_body({"endcall"}, &end, line);
            return n;
        }
        if (word == "filter") {
            n->kind = Node::Kind::FilterBlock;
            // "{% filter upper %}" is the filter expression "<body> | upper".
            ExprParser p = expr_parser("__body__ |" + rest, line);
            n->expr = p.parse_expr();
            p.expect_end();
            std::string end;
            n->body = parse_body({"endfilter"}, &end, line);
            return n;
        }
        if (word == "generation") {  // transformers' assistant-mask extension: plain content here
            std::string end;
            n->kind = Node::Kind::If;
            auto yes = std::make_shared<Expr>();
            yes->op = Expr::Op::Literal;
            yes->value = Value(true);
            n->conds.push_back(yes);
            n->bodies.push_back(parse_body({"endgeneration"}, &end, line));
            return n;
        }
        if (word == "break" || word == "continue") {
            n->kind = word == "break" ? Node::Kind::Break : Node::Kind::Continue;
            return n;
        }
        throw Error(where(line) + ": unsupported tag '" + word + "'");
    }

    std::vector<Chunk> c_;
    std::string name_;
    size_t i_ = 0;
    std::string rest_;  // the text after the word that ended the last body
    int line_ = 0;
    int depth_ = 0;
};

}  // namespace

NodePtr parse_template(const std::string& text, const std::string& name) {
    return TemplateParser(split_chunks(text, name), name).parse();
}

}  // namespace aligners::jinja
