#include "text/jinja/parser.h"

#include <algorithm>
#include <set>

namespace qwenc::jinja {

namespace {

class Parser {
public:
    Parser(const std::vector<Token> &tokens, const std::string &name) : t_(tokens), name_(name) {}

    Body template_body() {
        std::string end;
        Body b = body({}, end);
        return b;
    }

private:
    const std::vector<Token> &t_;
    const std::string &name_;
    size_t i_ = 0;
    int depth_ = 0;
    int loops_ = 0;  // enclosing for loops, for break and continue

    struct Nest {
        Parser &p;
        explicit Nest(Parser &parser, const Token &at) : p(parser) {
            if (++p.depth_ > kMaxSyntaxDepth) p.error(at, "nested deeper than " + std::to_string(kMaxSyntaxDepth) + " levels");
        }
        ~Nest() { p.depth_--; }
    };

    const Token &cur() const { return t_[i_]; }
    const Token &peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    const Token &next() {
        const Token &t = t_[i_];
        if (i_ + 1 < t_.size()) i_++;
        return t;
    }
    bool is_op(const char *op) const { return cur().type == Token::Type::Op && cur().text == op; }
    bool is_name(const char *n) const { return cur().type == Token::Type::Name && cur().text == n; }
    bool accept_op(const char *op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool accept_name(const char *n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }

    [[noreturn]] void error(const Token &at, const std::string &what) const {
        throw Error(name_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": syntax error: " + what);
    }
    static std::string describe(const Token &t) {
        switch (t.type) {
        case Token::Type::End: return "end of template";
        case Token::Type::VarEnd: return "end of print statement";
        case Token::Type::BlockEnd: return "end of statement block";
        case Token::Type::Text: return "template text";
        case Token::Type::String: return "string";
        default: return "'" + t.text + "'";
        }
    }
    void expect_op(const char *op) {
        if (!accept_op(op)) error(cur(), std::string("expected '") + op + "', got " + describe(cur()));
    }
    std::string expect_name(const char *what) {
        if (cur().type != Token::Type::Name) error(cur(), std::string("expected ") + what + ", got " + describe(cur()));
        return next().text;
    }
    void expect_block_end() {
        if (cur().type != Token::Type::BlockEnd) error(cur(), "expected end of statement block, got " + describe(cur()));
        next();
    }

    template <class N>
    std::unique_ptr<N> node(typename N::Kind k, const Token &at) {
        auto n = std::make_unique<N>();
        n->kind = k;
        n->line = at.line;
        n->column = at.column;
        return n;
    }

    // Statements up to one of `ends` ({% endif %} ...); `end` receives the
    // tag found, the parser standing after its name.
    Body body(const std::set<std::string> &ends, std::string &end, const Token *open = nullptr) {
        Body out;
        for (;;) {
            const Token &t = cur();
            switch (t.type) {
            case Token::Type::End:
                if (!ends.empty()) {
                    const std::string closer = *std::find_if(ends.begin(), ends.end(), [](const std::string &e) { return e.rfind("end", 0) == 0; });
                    error(t, "unexpected end of template, expected '" + closer + "' to close the '" + open->text + "' at line " +
                                 std::to_string(open->line));
                }
                return out;
            case Token::Type::Text: {
                auto s = node<Stmt>(Stmt::Kind::Text, t);
                s->text = next().text;
                out.push_back(std::move(s));
                break;
            }
            case Token::Type::VarBegin: {
                next();
                auto s = node<Stmt>(Stmt::Kind::Output, t);
                s->expr = tuple_or_expr(true);
                if (cur().type != Token::Type::VarEnd) error(cur(), "expected end of print statement, got " + describe(cur()));
                next();
                out.push_back(std::move(s));
                break;
            }
            case Token::Type::BlockBegin: {
                next();
                const Token &tag = cur();
                if (tag.type != Token::Type::Name) error(tag, "tag name expected");
                if (ends.count(tag.text)) {
                    end = next().text;
                    return out;
                }
                if (tag.text.rfind("end", 0) == 0 || tag.text == "elif" || tag.text == "else")
                    error(tag, "unexpected '" + tag.text + "'" + (open ? " in the '" + open->text + "' at line " + std::to_string(open->line) : std::string()));
                out.push_back(statement());
                break;
            }
            default: error(t, "unexpected " + describe(t));
            }
        }
    }

    Body block_until(const std::set<std::string> &ends, std::string &end, const Token &open) {
        Nest n(*this, open);
        return body(ends, end, &open);
    }

    std::unique_ptr<Stmt> statement() {
        const Token &tag = next();
        const std::string &k = tag.text;
        std::string end;
        if (k == "if") {
            auto s = node<Stmt>(Stmt::Kind::If, tag);
            ExprPtr cond = expression(true);
            expect_block_end();
            for (;;) {
                Body b = block_until({"elif", "else", "endif"}, end, tag);
                s->branches.emplace_back(std::move(cond), std::move(b));
                if (end == "elif") {
                    cond = expression(true);
                    expect_block_end();
                    continue;
                }
                if (end == "else") {
                    expect_block_end();
                    s->else_body = block_until({"endif"}, end, tag);
                }
                expect_block_end();
                return s;
            }
        }
        if (k == "for") {
            auto s = node<Stmt>(Stmt::Kind::For, tag);
            const bool paren = accept_op("(");
            do s->targets.push_back(expect_name("a loop variable"));
            while (accept_op(","));
            if (paren) expect_op(")");
            if (!accept_name("in")) error(cur(), "expected 'in', got " + describe(cur()));
            s->expr = tuple_or_expr(false);
            if (accept_name("if")) s->condition = expression(true);
            if (is_name("recursive")) error(cur(), "recursive loops are not supported");
            expect_block_end();
            loops_++;
            s->body = block_until({"else", "endfor"}, end, tag);
            loops_--;
            if (end == "else") {
                expect_block_end();
                s->else_body = block_until({"endfor"}, end, tag);
            }
            expect_block_end();
            return s;
        }
        if (k == "set") {
            auto s = node<Stmt>(Stmt::Kind::Set, tag);
            s->targets.push_back(expect_name("a variable name"));
            if (accept_op(".")) {
                s->attribute = expect_name("an attribute name");
            } else {
                while (accept_op(",")) s->targets.push_back(expect_name("a variable name"));
            }
            if (accept_op("=")) {
                s->expr = tuple_or_expr(true);
                expect_block_end();
                return s;
            }
            if (s->targets.size() != 1 || !s->attribute.empty()) error(cur(), "expected '='");
            s->kind = Stmt::Kind::SetBlock;
            if (is_op("|")) s->expr = filters(placeholder(tag));
            expect_block_end();
            s->body = block_until({"endset"}, end, tag);
            expect_block_end();
            return s;
        }
        if (k == "macro") {
            auto s = node<Stmt>(Stmt::Kind::Macro, tag);
            s->name = expect_name("a macro name");
            parameters(*s);
            expect_block_end();
            const int loops = loops_;
            loops_ = 0;
            s->body = block_until({"endmacro"}, end, tag);
            loops_ = loops;
            expect_block_end();
            return s;
        }
        if (k == "call") {
            auto s = node<Stmt>(Stmt::Kind::CallBlock, tag);
            if (is_op("(")) parameters(*s);
            s->expr = expression(true);
            if (s->expr->kind != Expr::Kind::Call) error(tag, "expected a call after 'call'");
            expect_block_end();
            s->body = block_until({"endcall"}, end, tag);
            expect_block_end();
            return s;
        }
        if (k == "filter") {
            auto s = node<Stmt>(Stmt::Kind::FilterBlock, tag);
            s->expr = filters(placeholder(tag), true);
            expect_block_end();
            s->body = block_until({"endfilter"}, end, tag);
            expect_block_end();
            return s;
        }
        if (k == "generation") {
            auto s = node<Stmt>(Stmt::Kind::Generation, tag);
            expect_block_end();
            s->body = block_until({"endgeneration"}, end, tag);
            expect_block_end();
            return s;
        }
        if (k == "break" || k == "continue") {
            if (!loops_) error(tag, "'" + k + "' outside of a loop");
            auto s = node<Stmt>(k == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, tag);
            expect_block_end();
            return s;
        }
        static const std::set<std::string> loaders = {"extends", "block", "include", "import", "from"};
        if (loaders.count(k)) error(tag, "'" + k + "' is not supported: a chat template is one file");
        error(tag, "encountered unknown tag '" + k + "'");
    }

    void parameters(Stmt &s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.params.empty()) expect_op(",");
            if (is_op(")")) break;
            s.params.push_back(expect_name("a parameter name"));
            s.defaults.push_back(accept_op("=") ? expression(true) : nullptr);
        }
        expect_op(")");
    }

    ExprPtr placeholder(const Token &at) { return node<Expr>(Expr::Kind::Placeholder, at); }

    // An expression, or several separated by commas as a tuple.
    ExprPtr tuple_or_expr(bool with_conditional) {
        const Token &at = cur();
        ExprPtr first = expression(with_conditional);
        if (!is_op(",")) return first;
        auto t = node<Expr>(Expr::Kind::Tuple, at);
        t->children.push_back(std::move(first));
        while (accept_op(",")) {
            if (cur().type == Token::Type::VarEnd || cur().type == Token::Type::BlockEnd || is_op(")")) break;
            t->children.push_back(expression(with_conditional));
        }
        return t;
    }

    ExprPtr expression(bool with_conditional) {
        Nest n(*this, cur());
        if (!with_conditional) return or_expr();
        ExprPtr e = or_expr();
        while (is_name("if")) {
            const Token &at = next();
            auto c = node<Expr>(Expr::Kind::Conditional, at);
            ExprPtr test = or_expr();
            ExprPtr otherwise = accept_name("else") ? expression(true) : nullptr;
            c->children.push_back(std::move(e));
            c->children.push_back(std::move(test));
            c->children.push_back(std::move(otherwise));
            e = std::move(c);
        }
        return e;
    }

    ExprPtr binary_chain(ExprPtr (Parser::*operand)(), Expr::Kind kind, const char *word) {
        ExprPtr e = (this->*operand)();
        while (is_name(word)) {
            const Token &at = next();
            auto b = node<Expr>(kind, at);
            b->children.push_back(std::move(e));
            b->children.push_back((this->*operand)());
            e = std::move(b);
        }
        return e;
    }
    ExprPtr or_expr() { return binary_chain(&Parser::and_expr, Expr::Kind::Or, "or"); }
    ExprPtr and_expr() { return binary_chain(&Parser::not_expr, Expr::Kind::And, "and"); }
    ExprPtr not_expr() {
        if (is_name("not")) {
            const Token &at = next();
            Nest n(*this, at);
            auto u = node<Expr>(Expr::Kind::Unary, at);
            u->name = "not";
            u->children.push_back(not_expr());
            return u;
        }
        return compare();
    }
    ExprPtr compare() {
        const Token &at = cur();
        ExprPtr first = math1();
        std::unique_ptr<Expr> c;
        for (;;) {
            std::string op;
            if (cur().type == Token::Type::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                                  cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
                op = next().text;
            } else if (is_name("in")) {
                next();
                op = "in";
            } else if (is_name("not") && peek().type == Token::Type::Name && peek().text == "in") {
                next();
                next();
                op = "not in";
            } else {
                break;
            }
            if (!c) {
                c = node<Expr>(Expr::Kind::Compare, at);
                c->children.push_back(std::move(first));
            }
            c->ops.push_back(op);
            c->children.push_back(math1());
        }
        return c ? std::move(c) : std::move(first);
    }
    ExprPtr binary_ops(ExprPtr (Parser::*operand)(), std::initializer_list<const char *> ops) {
        ExprPtr e = (this->*operand)();
        for (;;) {
            const char *hit = nullptr;
            for (const char *op : ops)
                if (is_op(op)) hit = op;
            if (!hit) return e;
            const Token &at = next();
            auto b = node<Expr>(Expr::Kind::Binary, at);
            b->name = hit;
            b->children.push_back(std::move(e));
            b->children.push_back((this->*operand)());
            e = std::move(b);
        }
    }
    ExprPtr math1() { return binary_ops(&Parser::concat, {"+", "-"}); }
    ExprPtr concat() { return binary_ops(&Parser::math2, {"~"}); }
    ExprPtr math2() { return binary_ops(&Parser::power, {"*", "/", "//", "%"}); }
    ExprPtr power() { return binary_ops(&Parser::unary_with_filters, {"**"}); }
    ExprPtr unary_with_filters() { return unary(true); }

    ExprPtr unary(bool with_filters) {
        Nest n(*this, cur());
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            const Token &at = next();
            e = node<Expr>(Expr::Kind::Unary, at);
            e->name = at.text;
            e->children.push_back(unary(false));
        } else {
            e = primary();
        }
        e = postfix(std::move(e));
        return with_filters ? filters(std::move(e)) : std::move(e);
    }

    ExprPtr primary() {
        const Token &t = cur();
        switch (t.type) {
        case Token::Type::Name: {
            next();
            auto e = node<Expr>(Expr::Kind::Literal, t);
            if (t.text == "true" || t.text == "True") e->literal = Value::of(true);
            else if (t.text == "false" || t.text == "False") e->literal = Value::of(false);
            else if (t.text == "none" || t.text == "None") e->literal = Value::none();
            else {
                e->kind = Expr::Kind::Name;
                e->name = t.text;
            }
            return e;
        }
        case Token::Type::String: {
            std::string s;
            while (cur().type == Token::Type::String) s += next().text;  // adjacent literals join
            auto e = node<Expr>(Expr::Kind::Literal, t);
            e->literal = Value::of(std::move(s));
            return e;
        }
        case Token::Type::Int:
        case Token::Type::Float: {
            next();
            auto e = node<Expr>(Expr::Kind::Literal, t);
            e->literal = t.type == Token::Type::Int ? Value::of(t.integer) : Value::of(t.real);
            return e;
        }
        case Token::Type::Op:
            if (t.text == "(") {
                next();
                if (accept_op(")")) return node<Expr>(Expr::Kind::Tuple, t);
                ExprPtr e = tuple_or_expr(true);
                expect_op(")");
                return e;
            }
            if (t.text == "[") {
                next();
                auto e = node<Expr>(Expr::Kind::List, t);
                while (!is_op("]")) {
                    if (!e->children.empty()) expect_op(",");
                    if (is_op("]")) break;
                    e->children.push_back(expression(true));
                }
                expect_op("]");
                return e;
            }
            if (t.text == "{") {
                next();
                auto e = node<Expr>(Expr::Kind::Dict, t);
                while (!is_op("}")) {
                    if (!e->children.empty()) expect_op(",");
                    if (is_op("}")) break;
                    e->children.push_back(expression(true));
                    expect_op(":");
                    e->children.push_back(expression(true));
                }
                expect_op("}");
                return e;
            }
            [[fallthrough]];
        default: error(t, "unexpected " + describe(t));
        }
    }

    ExprPtr postfix(ExprPtr e) {
        for (;;) {
            const Token &at = cur();
            if (accept_op(".")) {
                if (cur().type == Token::Type::Int) {
                    auto item = node<Expr>(Expr::Kind::Item, at);
                    auto index = node<Expr>(Expr::Kind::Literal, cur());
                    index->literal = Value::of(next().integer);
                    item->children.push_back(std::move(e));
                    item->children.push_back(std::move(index));
                    e = std::move(item);
                    continue;
                }
                auto a = node<Expr>(Expr::Kind::Attr, at);
                a->name = expect_name("an attribute name");
                a->children.push_back(std::move(e));
                e = std::move(a);
            } else if (accept_op("[")) {
                e = subscript(std::move(e), at);
            } else if (is_op("(")) {
                e = call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr subscript(ExprPtr target, const Token &at) {
        ExprPtr bounds[3];
        bool slice = false;
        for (int part = 0; part < 3; part++) {
            if (!is_op(":") && !is_op("]")) bounds[part] = expression(true);
            if (part < 2 && accept_op(":")) {
                slice = true;
                continue;
            }
            break;
        }
        expect_op("]");
        auto e = node<Expr>(slice ? Expr::Kind::Slice : Expr::Kind::Item, at);
        e->children.push_back(std::move(target));
        if (!slice) {
            if (!bounds[0]) error(at, "expected an index");
            e->children.push_back(std::move(bounds[0]));
        } else {
            for (auto &b : bounds) e->children.push_back(std::move(b));
        }
        return e;
    }

    // "(" args ")" for a call, filter or test; fills children after the first and keywords.
    void arguments(Expr &e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (cur().type == Token::Type::Name && peek().type == Token::Type::Op && peek().text == "=") {
                std::string key = next().text;
                next();
                e.keywords.emplace_back(std::move(key), expression(true));
            } else {
                if (!e.keywords.empty()) error(cur(), "positional argument after a keyword argument");
                e.children.push_back(expression(true));
            }
        }
        expect_op(")");
    }

    ExprPtr call(ExprPtr callee) {
        auto c = node<Expr>(Expr::Kind::Call, cur());
        c->line = callee->line;  // errors point at what is called
        c->column = callee->column;
        c->children.push_back(std::move(callee));
        arguments(*c);
        return c;
    }

    std::string dotted_name() {
        std::string n = expect_name("a filter or test name");
        while (is_op(".") && peek().type == Token::Type::Name) {
            next();
            n += "." + next().text;
        }
        return n;
    }

    // The filters, tests and calls after an operand; with `only_filters`,
    // a {% filter %} tag's chain ("upper | trim").
    ExprPtr filters(ExprPtr e, bool only_filters = false) {
        if (only_filters) {
            e = filter(std::move(e), cur());
        }
        for (;;) {
            const Token &at = cur();
            if (accept_op("|")) {
                e = filter(std::move(e), at);
            } else if (!only_filters && is_name("is")) {
                next();
                auto t = node<Expr>(Expr::Kind::Test, at);
                t->negated = accept_name("not");
                t->name = dotted_name();
                t->children.push_back(std::move(e));
                const Token &a = cur();
                if (is_op("(")) {
                    arguments(*t);
                } else if ((a.type == Token::Type::Name || a.type == Token::Type::String || a.type == Token::Type::Int ||
                            a.type == Token::Type::Float || is_op("[") || is_op("{")) &&
                           !is_name("else") && !is_name("or") && !is_name("and")) {
                    if (is_name("is")) error(a, "you cannot chain multiple tests with is");
                    t->children.push_back(postfix(primary()));
                }
                e = std::move(t);
            } else if (!only_filters && is_op("(")) {
                e = call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr filter(ExprPtr subject, const Token &at) {
        auto f = node<Expr>(Expr::Kind::Filter, at);
        f->name = dotted_name();
        f->children.push_back(std::move(subject));
        if (is_op("(")) arguments(*f);
        return f;
    }
};

}  // namespace

Body parse(const std::vector<Token> &tokens, const std::string &name) { return Parser(tokens, name).template_body(); }

}  // namespace qwenc::jinja
