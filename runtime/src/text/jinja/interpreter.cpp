#include "text/jinja/interpreter.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "text/jinja/builtins.h"

namespace qwenc::jinja {

namespace {

struct Scope {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Scope> parent;

    const Value *find(const std::string &name) const {
        for (const Scope *s = this; s; s = s->parent.get()) {
            const auto it = s->vars.find(name);
            if (it != s->vars.end()) return &it->second;
        }
        return nullptr;
    }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_of(const ScopePtr &parent) {
    auto s = std::make_shared<Scope>();
    s->parent = parent;
    return s;
}

enum class Flow { Normal, Break, Continue };

template <class Op>
int64_t checked(Op op, int64_t a, int64_t b) {
    int64_t r;
    if (op(a, b, &r)) fail("OverflowError", "integer overflow");
    return r;
}
const auto add = [](int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); };
const auto sub = [](int64_t a, int64_t b, int64_t *r) { return __builtin_sub_overflow(a, b, r); };
const auto mul = [](int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); };

double real_of(const Value &v) { return v.is(Value::Kind::Float) ? v.real : v.is(Value::Kind::Int) ? double(v.integer) : double(v.boolean); }
int64_t int_of(const Value &v) { return v.is(Value::Kind::Int) ? v.integer : int64_t(v.boolean); }

[[noreturn]] void unsupported(const std::string &op, const Value &a, const Value &b) {
    fail("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(const Value &seq, int64_t n) {
    n = std::max<int64_t>(n, 0);
    if (seq.is(Value::Kind::String)) {
        check_string_size(seq.str().size() * size_t(std::min<int64_t>(n, INT32_MAX)));
        std::string out;
        for (int64_t i = 0; i < n; i++) out += seq.str();
        return Value::of(std::move(out));
    }
    if (uint64_t(n) * seq.list->size() > uint64_t(kMaxRange)) fail("LimitError", "the template builds a list over " + std::to_string(kMaxRange) + " items");
    List out;
    for (int64_t i = 0; i < n; i++) out.insert(out.end(), seq.list->begin(), seq.list->end());
    return Value::of(std::move(out), seq.tuple);
}

// x followed by y, sized before anything is copied: a doubling loop's last
// step fails having built nothing, and each step copies its operands once
// (fresh pages cost most of such a loop's time on some VMs).
Value joined(const std::string &x, const std::string &y) {
    check_string_size(x.size() + y.size());
    std::string out;
    out.reserve(x.size() + y.size());
    out.append(x).append(y);
    return Value::of(std::move(out));
}

Value arithmetic(const std::string &op, const Value &a, const Value &b) {
    require_defined(a);
    require_defined(b);
    const bool numbers = a.is_number() && b.is_number();
    const bool ints = numbers && !a.is(Value::Kind::Float) && !b.is(Value::Kind::Float);
    if (op == "+") {
        if (ints) return Value::of(checked(add, int_of(a), int_of(b)));
        if (numbers) return Value::of(real_of(a) + real_of(b));
        if (a.is(Value::Kind::String) && b.is(Value::Kind::String)) {
            const bool markup = a.markup || b.markup;
            std::string x_escaped, y_escaped;
            const std::string &x = markup && !a.markup ? (x_escaped = html_escape(a.str())) : a.str();
            const std::string &y = markup && !b.markup ? (y_escaped = html_escape(b.str())) : b.str();
            Value r = joined(x, y);
            r.markup = markup;
            return r;
        }
        if (a.is(Value::Kind::List) && b.is(Value::Kind::List) && a.tuple == b.tuple) {
            List out = *a.list;
            out.insert(out.end(), b.list->begin(), b.list->end());
            return Value::of(std::move(out), a.tuple);
        }
        if (a.is(Value::Kind::String) || a.is(Value::Kind::List))
            fail("TypeError", "can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
        unsupported("+", a, b);
    }
    if (op == "-") {
        if (ints) return Value::of(checked(sub, int_of(a), int_of(b)));
        if (numbers) return Value::of(real_of(a) - real_of(b));
        unsupported("-", a, b);
    }
    if (op == "*") {
        if (ints) return Value::of(checked(mul, int_of(a), int_of(b)));
        if (numbers) return Value::of(real_of(a) * real_of(b));
        const bool a_int = a.is(Value::Kind::Int) || a.is(Value::Kind::Bool), b_int = b.is(Value::Kind::Int) || b.is(Value::Kind::Bool);
        if ((a.is(Value::Kind::String) || a.is(Value::Kind::List)) && b_int) return repeat(a, int_of(b));
        if ((b.is(Value::Kind::String) || b.is(Value::Kind::List)) && a_int) return repeat(b, int_of(a));
        unsupported("*", a, b);
    }
    if (op == "%" && a.is(Value::Kind::String)) {
        return Value::of(percent_format(a.str(), b.is(Value::Kind::List) && b.tuple ? *b.list : std::vector<Value>{b}));
    }
    if (!numbers) unsupported(op, a, b);
    if (op == "/") {
        if (real_of(b) == 0) fail("ZeroDivisionError", "division by zero");
        return Value::of(real_of(a) / real_of(b));
    }
    if (op == "//" || op == "%") {
        if (real_of(b) == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
        if (ints) {
            const int64_t x = int_of(a), y = int_of(b);
            if (x == INT64_MIN && y == -1) fail("OverflowError", "integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) q--, m += y;  // Python floors
            return Value::of(op == "//" ? q : m);
        }
        const double x = real_of(a), y = real_of(b);
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value::of(op == "//" ? std::floor(x / y) : m);
    }
    if (op == "**") {
        if (ints && int_of(b) >= 0) {
            int64_t result = 1, base = int_of(a);
            for (int64_t e = int_of(b); e > 0; e--) {
                if (__builtin_mul_overflow(result, base, &result)) fail("OverflowError", "integer overflow");
                if (result == 0 || result == 1) break;
            }
            return Value::of(result);
        }
        return Value::of(std::pow(real_of(a), real_of(b)));
    }
    unsupported(op, a, b);
}

class Interpreter {
public:
    Interpreter(const std::string &name, const RenderLimits &limits, std::optional<std::time_t> now)
        : name_(name), limits_(limits), now_(now), start_(std::chrono::steady_clock::now()) {}

    std::string run(const Body &body, const Dict &variables) {
        auto globals = std::make_shared<Scope>();
        add_builtins(*globals);
        for (const auto &kv : variables.items) globals->vars[kv.first] = kv.second;
        ScopePtr top = child_of(globals);
        std::string out;
        exec(body, top, out);
        return out;
    }

private:
    const std::string &name_;
    const RenderLimits &limits_;
    std::optional<std::time_t> now_;
    std::chrono::steady_clock::time_point start_;
    int64_t steps_ = 0;
    int depth_ = 0;
    std::vector<Value> placeholders_;

    // One step of work, and one level deeper for as long as it lives.
    struct Frame {
        Interpreter &in;
        Frame(Interpreter &interpreter, int line, int column) : in(interpreter) {
            if (++in.steps_ > in.limits_.max_steps)
                in.error(line, column, "the template ran more than " + std::to_string(in.limits_.max_steps) + " steps");
            if ((in.steps_ & 63) == 0 &&
                std::chrono::duration<double>(std::chrono::steady_clock::now() - in.start_).count() > in.limits_.max_seconds)
                in.error(line, column, "the template ran longer than " + std::to_string(int(in.limits_.max_seconds)) + " s");
            if (++in.depth_ > in.limits_.max_depth)
                in.error(line, column, "the template recursed deeper than " + std::to_string(in.limits_.max_depth) + " levels");
        }
        ~Frame() { in.depth_--; }
    };

    // Work proportional to `n` items done at once (a loop's sequence): as many steps.
    void charge(int64_t n, int line, int column) {
        steps_ += n;
        Frame step(*this, line, column);
    }

    [[noreturn]] void error(int line, int column, const std::string &what) const {
        throw Error(name_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
    }

    // What namespace() and dict() build from: mappings, then keyword arguments.
    static Dict items_of(const CallArgs &a, const char *callee) {
        Dict d;
        for (const Value &v : a.positional) {
            if (!v.is(Value::Kind::Dict)) fail("TypeError", std::string(callee) + "() takes mappings and keyword arguments");
            for (const auto &kv : v.dict->items) d.set(kv.first, kv.second);
        }
        for (const auto &kv : a.keyword) d.set(kv.first, kv.second);
        return d;
    }

    void add_builtins(Scope &g) {
        g.vars["range"] = Value::callable("range", [](CallArgs &a) { return range_of(a); });
        g.vars["namespace"] = Value::callable("namespace", [](CallArgs &a) { return Value::namespace_of(items_of(a, "namespace")); });
        g.vars["dict"] = Value::callable("dict", [](CallArgs &a) { return Value::of(items_of(a, "dict")); });
        g.vars["joiner"] = Value::callable("joiner", [](CallArgs &a) {
            const std::string sep = to_str(a.take(0, "sep", Value::of(std::string(", "))));
            a.done("joiner");
            auto used = std::make_shared<bool>(false);
            return Value::callable("joiner", [sep, used](CallArgs &b) {
                b.done("joiner");
                const bool was = *used;
                *used = true;
                return Value::of(was ? sep : std::string());
            });
        });
        g.vars["raise_exception"] = Value::callable("raise_exception", [](CallArgs &a) -> Value {
            const Value message = a.take(0, "message", Value::of(std::string("raise_exception() called")));
            fail("TemplateError", to_str(message));
        });
        const std::optional<std::time_t> now = now_;
        g.vars["strftime_now"] = Value::callable("strftime_now", [now](CallArgs &a) {
            const Value fmt = a.take(0, "format", Value());
            a.done("strftime_now");
            if (!fmt.is(Value::Kind::String)) fail("TypeError", "strftime_now() argument must be str");
            const std::time_t t = now ? *now : std::time(nullptr);
            std::tm tm{};
            if (now) gmtime_r(&t, &tm);
            else localtime_r(&t, &tm);
            char buf[512];
            const size_t n = fmt.str().size() < 200 ? std::strftime(buf, sizeof buf, fmt.str().c_str(), &tm) : 0;
            return Value::of(std::string(buf, n));
        });
    }

    // --- statements ---

    Flow exec(const Body &body, const ScopePtr &scope, std::string &out) {
        for (const auto &s : body) {
            const Flow f = exec(*s, scope, out);
            if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
    }

    void emit(std::string &out, const std::string &piece) {
        check_string_size(out.size() + piece.size());
        out += piece;
    }

    Flow exec(const Stmt &s, const ScopePtr &scope, std::string &out) {
        Frame frame(*this, s.line, s.column);
        try {
            return exec_inner(s, scope, out);
        } catch (const ValueError &e) {
            error(s.line, s.column, e.kind + ": " + e.message);
        }
    }

    Flow exec_inner(const Stmt &s, const ScopePtr &scope, std::string &out) {
        switch (s.kind) {
        case Stmt::Kind::Text: emit(out, s.text); return Flow::Normal;
        case Stmt::Kind::Output: emit(out, to_str(eval(*s.expr, scope))); return Flow::Normal;
        case Stmt::Kind::If:
            for (const auto &branch : s.branches)
                if (truthy(eval(*branch.first, scope))) return exec(branch.second, scope, out);
            return exec(s.else_body, scope, out);
        case Stmt::Kind::For: return exec_for(s, scope, out);
        case Stmt::Kind::Set: {
            Value v = eval(*s.expr, scope);
            if (!s.attribute.empty()) {
                const Value *ns = scope->find(s.targets[0]);
                if (!ns || !ns->is(Value::Kind::Namespace))
                    fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                ns->dict->set(s.attribute, std::move(v));
            } else {
                assign(*scope, s.targets, v);
            }
            return Flow::Normal;
        }
        case Stmt::Kind::SetBlock: {
            std::string captured;
            exec(s.body, scope, captured);
            scope->vars[s.targets[0]] = s.expr ? with_placeholder(Value::of(std::move(captured)), *s.expr, scope)
                                               : Value::of(std::move(captured));
            return Flow::Normal;
        }
        case Stmt::Kind::Macro: scope->vars[s.name] = macro(s, scope, s.name); return Flow::Normal;
        case Stmt::Kind::CallBlock: {
            const Value caller = macro(s, scope, "caller");
            const Expr &call = *s.expr;
            Value callee = eval(*call.children[0], scope);
            CallArgs args = arguments(call, scope);
            args.keyword.emplace_back("caller", caller);
            emit(out, to_str(invoke(callee, args)));
            return Flow::Normal;
        }
        case Stmt::Kind::FilterBlock: {
            std::string captured;
            exec(s.body, scope, captured);
            emit(out, to_str(with_placeholder(Value::of(std::move(captured)), *s.expr, scope)));
            return Flow::Normal;
        }
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
        case Stmt::Kind::Generation: return exec(s.body, scope, out);
        }
        return Flow::Normal;
    }

    Value with_placeholder(Value v, const Expr &chain, const ScopePtr &scope) {
        placeholders_.push_back(std::move(v));
        Value r = eval(chain, scope);
        placeholders_.pop_back();
        return r;
    }

    static void assign(Scope &scope, const std::vector<std::string> &targets, const Value &v) {
        if (targets.size() == 1) {
            scope.vars[targets[0]] = v;
            return;
        }
        const std::vector<Value> items = iterate(v);
        if (items.size() != targets.size())
            fail("ValueError", std::string(items.size() < targets.size() ? "not enough" : "too many") + " values to unpack (expected " +
                                   std::to_string(targets.size()) + ", got " + std::to_string(items.size()) + ")");
        for (size_t i = 0; i < targets.size(); i++) scope.vars[targets[i]] = items[i];
    }

    Flow exec_for(const Stmt &s, const ScopePtr &scope, std::string &out) {
        const Value seq = eval(*s.expr, scope);
        std::vector<Value> items = iterate(seq);
        charge(int64_t(items.size()), s.line, s.column);
        if (s.condition) {
            std::vector<Value> kept;
            for (const Value &item : items) {
                ScopePtr probe = child_of(scope);
                assign(*probe, s.targets, item);
                if (truthy(eval(*s.condition, probe))) kept.push_back(item);
            }
            items = std::move(kept);
        }
        if (items.empty()) return exec(s.else_body, child_of(scope), out);
        const int64_t n = int64_t(items.size());
        // One loop object per loop, its values updated in place each
        // iteration: building it anew was most of an iteration's cost.
        Value loop = Value::namespace_of({});
        Dict &d = *loop.dict;
        for (const char *key : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
                                "previtem", "nextitem", "cycle"})
            d.set(key, Value());
        auto position = std::make_shared<int64_t>(0);
        d.set("length", Value::of(n));
        d.set("depth", Value::of(int64_t(1)));
        d.set("depth0", Value::of(int64_t(0)));
        d.set("cycle", Value::callable("cycle", [position](CallArgs &a) {
                  if (a.positional.empty()) fail("TypeError", "no items for cycling given");
                  a.taken_positional.assign(a.positional.size(), true);
                  a.done("cycle");
                  return a.positional[size_t(*position) % a.positional.size()];
              }));
        for (int64_t i = 0; i < n; i++) {
            Frame step(*this, s.line, s.column);
            ScopePtr iteration = child_of(scope);
            assign(*iteration, s.targets, items[size_t(i)]);
            *position = i;
            d.items[0].second = Value::of(i + 1);
            d.items[1].second = Value::of(i);
            d.items[2].second = Value::of(n - i);
            d.items[3].second = Value::of(n - i - 1);
            d.items[4].second = Value::of(i == 0);
            d.items[5].second = Value::of(i == n - 1);
            d.items[9].second = i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item");
            d.items[10].second = i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item");
            iteration->vars["loop"] = loop;
            if (exec(s.body, iteration, out) == Flow::Break) break;
        }
        return Flow::Normal;
    }

    // A macro (or a call block's caller) as a callable: its body renders in
    // a scope of its own under the one it was defined in.
    // The scope is held weakly: the macro is a variable of that scope, and
    // a strong reference would be a cycle that outlives the render.
    Value macro(const Stmt &s, const ScopePtr &defined_in, const std::string &name) {
        const Stmt *m = &s;
        const std::weak_ptr<Scope> weak = defined_in;
        return Value::callable(name, [this, m, weak, name](CallArgs &a) {
            Frame frame(*this, m->line, m->column);
            ScopePtr parent = weak.lock();
            if (!parent) fail("TemplateRuntimeError", "macro '" + name + "' called outside the scope it was defined in");
            ScopePtr local = child_of(parent);
            List varargs;
            for (size_t i = 0; i < a.positional.size(); i++) {
                if (i < m->params.size()) local->vars[m->params[i]] = a.positional[i];
                else varargs.push_back(a.positional[i]);
            }
            Dict kwargs;
            for (const auto &kv : a.keyword) {
                const auto p = std::find(m->params.begin(), m->params.end(), kv.first);
                if (p != m->params.end() && size_t(p - m->params.begin()) < a.positional.size())
                    fail("TypeError", "macro '" + name + "' got multiple values for argument '" + kv.first + "'");
                if (p != m->params.end() || kv.first == "caller") local->vars[kv.first] = kv.second;
                else kwargs.set(kv.first, kv.second);
            }
            for (size_t i = a.positional.size(); i < m->params.size(); i++) {
                if (local->vars.count(m->params[i])) continue;
                local->vars[m->params[i]] = m->defaults[i] ? eval(*m->defaults[i], local)
                                                           : Value::undefined("parameter '" + m->params[i] + "' was not provided");
            }
            local->vars["varargs"] = Value::of(std::move(varargs), true);
            local->vars["kwargs"] = Value::of(std::move(kwargs));
            std::string out;
            exec(m->body, local, out);
            return Value::of(std::move(out));
        });
    }

    // --- expressions ---

    CallArgs arguments(const Expr &e, const ScopePtr &scope) {
        CallArgs a;
        for (size_t i = 1; i < e.children.size(); i++) a.positional.push_back(eval(*e.children[i], scope));
        for (const auto &kv : e.keywords) a.keyword.emplace_back(kv.first, eval(*kv.second, scope));
        return a;
    }

    static Value invoke(const Value &callee, CallArgs &args) {
        if (callee.is(Value::Kind::Function)) return (*callee.function)(args);
        require_defined(callee);
        fail("TypeError", "'" + type_name(callee) + "' object is not callable");
    }

    Value eval(const Expr &e, const ScopePtr &scope) {
        Frame frame(*this, e.line, e.column);
        try {
            return eval_inner(e, scope);
        } catch (const ValueError &v) {
            error(e.line, e.column, v.kind + ": " + v.message);
        }
    }

    Value eval_inner(const Expr &e, const ScopePtr &scope) {
        using K = Expr::Kind;
        switch (e.kind) {
        case K::Literal: return e.literal;
        case K::Name: {
            const Value *v = scope->find(e.name);
            return v ? *v : Value::undefined("'" + e.name + "' is undefined");
        }
        case K::Placeholder: return placeholders_.back();
        case K::List:
        case K::Tuple: {
            List items;
            for (const auto &c : e.children) items.push_back(eval(*c, scope));
            return Value::of(std::move(items), e.kind == K::Tuple);
        }
        case K::Dict: {
            Dict d;
            for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
                const Value key = eval(*e.children[i], scope);
                if (!key.is(Value::Kind::String)) fail("TypeError", "dict keys must be strings here, not " + type_name(key));
                d.set(key.str(), eval(*e.children[i + 1], scope));
            }
            return Value::of(std::move(d));
        }
        case K::Attr: return get_attr(eval(*e.children[0], scope), e.name);
        case K::Item: {
            const Value obj = eval(*e.children[0], scope);
            return get_item(obj, eval(*e.children[1], scope));
        }
        case K::Slice: {
            const Value obj = eval(*e.children[0], scope);
            Value bounds[3];
            for (int i = 0; i < 3; i++)
                if (e.children[size_t(i) + 1]) bounds[i] = eval(*e.children[size_t(i) + 1], scope);
            return get_slice(obj, bounds[0], bounds[1], bounds[2]);
        }
        case K::Call: {
            const Value callee = eval(*e.children[0], scope);
            CallArgs args = arguments(e, scope);
            return invoke(callee, args);
        }
        case K::Filter: {
            const Value subject = eval(*e.children[0], scope);
            CallArgs args = arguments(e, scope);
            return apply_filter(e.name, subject, args);
        }
        case K::Test: {
            const Value subject = eval(*e.children[0], scope);
            CallArgs args = arguments(e, scope);
            return Value::of(apply_test(e.name, subject, args) != e.negated);
        }
        case K::Unary: {
            const Value v = eval(*e.children[0], scope);
            if (e.name == "not") return Value::of(!truthy(v));
            require_defined(v);
            if (!v.is_number()) fail("TypeError", "bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
            if (e.name == "+") return v.is(Value::Kind::Bool) ? Value::of(int_of(v)) : v;
            if (v.is(Value::Kind::Float)) return Value::of(-v.real);
            if (int_of(v) == INT64_MIN) fail("OverflowError", "integer overflow");
            return Value::of(-int_of(v));
        }
        case K::Binary: {
            const Value a = eval(*e.children[0], scope);
            const Value b = eval(*e.children[1], scope);
            if (e.name == "~") {
                std::string x_text, y_text;  // strings are joined as they are
                return joined(a.is(Value::Kind::String) ? a.str() : (x_text = to_str(a)),
                              b.is(Value::Kind::String) ? b.str() : (y_text = to_str(b)));
            }
            return arithmetic(e.name, a, b);
        }
        case K::Compare: {
            Value left = eval(*e.children[0], scope);
            for (size_t i = 0; i < e.ops.size(); i++) {
                Value right = eval(*e.children[i + 1], scope);
                const std::string &op = e.ops[i];
                bool ok;
                if (op == "==") ok = equal(left, right);
                else if (op == "!=") ok = !equal(left, right);
                else if (op == "in") ok = contains(right, left);
                else if (op == "not in") ok = !contains(right, left);
                else {
                    const int c = compare(left, right);
                    ok = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
                }
                if (!ok) return Value::of(false);
                left = std::move(right);
            }
            return Value::of(true);
        }
        case K::And: {
            Value a = eval(*e.children[0], scope);
            return truthy(a) ? eval(*e.children[1], scope) : a;
        }
        case K::Or: {
            Value a = eval(*e.children[0], scope);
            return truthy(a) ? a : eval(*e.children[1], scope);
        }
        case K::Conditional:
            if (truthy(eval(*e.children[1], scope))) return eval(*e.children[0], scope);
            if (e.children[2]) return eval(*e.children[2], scope);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
        }
        fail("TemplateRuntimeError", "unknown expression");
    }
};

}  // namespace

std::string render(const Body &body, const std::string &name, const Dict &variables, const RenderLimits &limits,
                   std::optional<std::time_t> now) {
    return Interpreter(name, limits, now).run(body, variables);
}

}  // namespace qwenc::jinja
