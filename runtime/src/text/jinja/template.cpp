#include "text/jinja/template.h"

#include "text/jinja/builtins.h"
#include "text/jinja/lexer.h"
#include "text/jinja/parser.h"

namespace qwenc::jinja {

namespace {

[[noreturn]] void unknown(const std::string &name, const Expr &e, const char *what) {
    throw Error(name + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": syntax error: no " + what + " named '" +
                e.name + "'");
}

void check_names(const std::string &name, const Expr *e) {
    if (!e) return;
    if (e->kind == Expr::Kind::Filter && !is_filter(e->name)) unknown(name, *e, "filter");
    if (e->kind == Expr::Kind::Test && !is_test(e->name)) unknown(name, *e, "test");
    for (const auto &c : e->children) check_names(name, c.get());
    for (const auto &k : e->keywords) check_names(name, k.second.get());
}

void check_names(const std::string &name, const Body &body) {
    for (const auto &s : body) {
        check_names(name, s->expr.get());
        check_names(name, s->condition.get());
        for (const auto &d : s->defaults) check_names(name, d.get());
        for (const auto &b : s->branches) {
            check_names(name, b.first.get());
            check_names(name, b.second);
        }
        check_names(name, s->body);
        check_names(name, s->else_body);
    }
}

}  // namespace

Template Template::parse(const std::string &source, const std::string &name) {
    auto body = std::make_shared<Body>(jinja::parse(tokenize(source, name), name));
    check_names(name, *body);
    Template t;
    t.body_ = std::move(body);
    t.name_ = name;
    return t;
}

std::string Template::render(const nlohmann::ordered_json &variables, const RenderLimits &limits, std::optional<std::time_t> now) const {
    Dict vars;
    try {
        if (!variables.is_object()) throw Error(name_ + ": template variables must be a JSON object");
        for (auto it = variables.begin(); it != variables.end(); ++it) vars.set(it.key(), from_json(it.value()));
    } catch (const ValueError &e) {
        throw Error(name_ + ": " + e.kind + ": " + e.message);
    }
    return jinja::render(*body_, name_, vars, limits, now);
}

}  // namespace qwenc::jinja
