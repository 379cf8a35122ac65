// The parsed form of a Jinja template (internal to tokenizer/jinja_*.cpp):
// expression nodes and statement nodes, each with the line it came from.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/jinja.h"

namespace aligners::jinja {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
    enum class Op {
        Literal,    // value
        Name,       // name
        List,       // items
        Tuple,      // items
        DictLit,    // keys[i] : items[i]
        Attr,       // items[0] . name
        Item,       // items[0] [ items[1] ]
        Slice,      // items[0] [ items[1] : items[2] : items[3] ] (null = omitted)
        Call,       // items[0] ( items[1..], kwargs )
        Filter,     // items[0] | name ( items[1..], kwargs )
        Test,       // items[0] is [not] name ( items[1..] )
        Unary,      // name ("not", "-", "+") items[0]
        Binary,     // items[0] name items[1]   ("or", "and", "==", "in", "not in", "+", "~", ...)
        Cond,       // items[0] if items[1] else items[2] (items[2] may be null)
    };
    Op op;
    int line = 0;
    std::string name;
    Value value;
    std::vector<ExprPtr> items;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool negated = false;  // Test: "is not"
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;
using Body = std::vector<NodePtr>;

struct Node {
    enum class Kind {
        Root,       // body
        Text,       // text
        Output,     // {{ expr }}
        If,         // conds[i] -> bodies[i]; else_body
        For,        // targets in expr [if cond]: body; else_body
        Set,        // targets (or target.attr) = expr
        SetBlock,   // {% set name %} body {% endset %}
        Macro,      // name(params = defaults) body
        CallBlock,  // {% call expr %} body {% endcall %}: caller() renders body
        FilterBlock,// {% filter name(args) %} body {% endfilter %}
        Break,
        Continue,
    };
    Kind kind;
    int line = 0;
    std::string text;                     // Text; Set: attribute of a namespace ("" = plain name)
    std::vector<std::string> targets;     // For / Set / SetBlock / Macro (name) targets
    ExprPtr expr;                         // Output / For iterable / Set value / CallBlock call / FilterBlock filter
    ExprPtr cond;                         // For: inline if
    std::vector<ExprPtr> conds;           // If
    std::vector<Body> bodies;             // If
    Body body, else_body;
    std::vector<std::string> params;      // Macro
    std::vector<ExprPtr> defaults;        // Macro: parallel to params (null = none)
};

// Parses template text into a Root node; `name` labels errors.
NodePtr parse_template(const std::string& text, const std::string& name);

}  // namespace aligners::jinja
