// A parsed template: statements holding expressions, each node with the
// line and column it came from for error messages.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace qwenc::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Literal,      // literal
        Name,         // name
        Placeholder,  // the value a {% filter %} or {% set %} block filters
        List,         // children: items
        Tuple,        // children: items
        Dict,         // children: key, value, key, value, ...
        Attr,         // children[0].name
        Item,         // children[0][children[1]]
        Slice,        // children[0][children[1]:children[2]:children[3]], each bound may be null
        Call,         // children[0](children[1..], keywords)
        Filter,       // children[0] | name(children[1..], keywords)
        Test,         // children[0] is [not] name(children[1..], keywords)
        Unary,        // name ("-", "+", "not") children[0]
        Binary,       // children[0] name children[1]: + - * / // % ** ~
        Compare,      // children[0] ops[0] children[1] ops[1] children[2] ...
        And,
        Or,
        Conditional,  // children[0] if children[1] else children[2] (may be null)
    };
    Kind kind;
    int line = 0, column = 0;
    Value literal;
    std::string name;
    std::vector<ExprPtr> children;
    std::vector<std::string> ops;
    std::vector<std::pair<std::string, ExprPtr>> keywords;
    bool negated = false;  // "is not"
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
    enum class Kind {
        Text,         // text
        Output,       // {{ expr }}
        If,           // branches (condition, body); else_body
        For,          // for targets in expr [if condition]: body, else_body
        Set,          // set targets (or ns.attr) = expr
        SetBlock,     // set target [| filters] %}body{% endset: expr is the filter chain on a Placeholder, or null
        Macro,        // macro name(params = defaults): body
        CallBlock,    // call(params) expr: body is caller()
        FilterBlock,  // filter expr: body
        Break,
        Continue,
        Generation,   // transformers' {% generation %}: renders its body
    };
    Kind kind;
    int line = 0, column = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr condition;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body, else_body;
    std::vector<std::string> targets;
    std::string attribute;  // Set on a namespace: targets[0].attribute
    std::string name;       // Macro
    std::vector<std::string> params;
    std::vector<ExprPtr> defaults;  // one per param, null when none
};

}  // namespace qwenc::jinja
