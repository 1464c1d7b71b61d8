#include "text/jinja/lexer.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "text/jinja/value.h"
#include "text/utf8.h"

namespace qwenc::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
public:
    Lexer(std::string src, const std::string &name) : src_(std::move(src)), name_(name) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); i++)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        size_t pos = 0;
        bool strip_next = false;  // the last tag ended with "-": leading whitespace of the next text goes
        while (pos <= src_.size()) {
            size_t k = pos;
            while ((k = src_.find('{', k)) != std::string::npos && k + 1 < src_.size() && !std::strchr("{%#", src_[k + 1])) k++;
            if (k != std::string::npos && k + 1 >= src_.size()) k = std::string::npos;
            std::string text = src_.substr(pos, k == std::string::npos ? std::string::npos : k - pos);
            if (strip_next) text.erase(0, std::find_if_not(text.begin(), text.end(), is_space) - text.begin());
            strip_next = false;
            if (k == std::string::npos) {
                emit_text(text, pos);
                break;
            }
            const char kind = src_[k + 1];
            const char mod = k + 2 < src_.size() ? src_[k + 2] : '\0';
            if (mod == '-') {
                text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
            } else if (mod != '+' && kind != '{') {
                // lstrip_blocks: only spaces between the line's start and a block or comment tag.
                const size_t l = text.rfind('\n');
                const size_t l_pos = l == std::string::npos ? 0 : l + 1;
                const bool line_starting = pos == 0 || src_[pos - 1] == '\n';
                if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
                    std::all_of(text.begin() + long(l_pos), text.end(), is_space))
                    text.erase(l_pos);
            }
            emit_text(text, pos);
            size_t p = k + 2 + (mod == '-' || mod == '+');
            if (kind == '#') {
                pos = end_comment(k, p, strip_next);
            } else if (kind == '%' && is_raw(p)) {
                pos = raw_block(k, p, strip_next);
            } else {
                pos = tag(kind, k, p, strip_next);
            }
        }
        tokens_.push_back(make(Token::Type::End, src_.size()));
        return std::move(tokens_);
    }

private:
    std::string src_;
    const std::string &name_;
    std::vector<size_t> line_starts_;
    std::vector<Token> tokens_;

    Token make(Token::Type t, size_t at) const {
        Token tok;
        tok.type = t;
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at) - 1;
        tok.line = int(it - line_starts_.begin()) + 1;
        tok.column = int(at - *it) + 1;
        return tok;
    }

    [[noreturn]] void error(size_t at, const std::string &what) const {
        const Token t = make(Token::Type::End, at);
        throw Error(name_ + ":" + std::to_string(t.line) + ":" + std::to_string(t.column) + ": syntax error: " + what);
    }

    void emit_text(const std::string &text, size_t at) {
        if (text.empty()) return;
        Token t = make(Token::Type::Text, at);
        t.text = text;
        tokens_.push_back(std::move(t));
    }

    // After a block or comment end: "-" strips all following whitespace,
    // "+" keeps it, else trim_blocks removes one newline.
    size_t after_block_end(size_t p, char mod, bool &strip_next) const {
        if (mod == '-') strip_next = true;
        else if (mod != '+' && p < src_.size() && src_[p] == '\n') p++;
        return p;
    }

    size_t end_comment(size_t open, size_t p, bool &strip_next) const {
        const size_t e = src_.find("#}", p);
        if (e == std::string::npos) error(open, "missing end of comment tag");
        const char mod = e > p && (src_[e - 1] == '-' || src_[e - 1] == '+') ? src_[e - 1] : '\0';
        return after_block_end(e + 2, mod, strip_next);
    }

    bool is_raw(size_t p) const {
        while (p < src_.size() && is_space(src_[p])) p++;
        if (src_.compare(p, 3, "raw") != 0) return false;
        p += 3;
        return p < src_.size() && (is_space(src_[p]) || src_[p] == '-' || src_[p] == '%');
    }

    // {% raw %}...{% endraw %}: the text between is kept as is.
    size_t raw_block(size_t open, size_t p, bool &strip_next) {
        size_t e = src_.find("%}", p);
        if (e == std::string::npos) error(open, "missing end of raw tag");
        size_t body = after_block_end(e + 2, src_[e - 1] == '-' ? '-' : '\0', strip_next);
        if (strip_next) body = size_t(std::find_if_not(src_.begin() + long(body), src_.end(), is_space) - src_.begin());
        strip_next = false;
        for (size_t k = src_.find("{%", body); k != std::string::npos; k = src_.find("{%", k + 2)) {
            size_t q = k + 2;
            const char mod = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q++] : '\0';
            while (q < src_.size() && is_space(src_[q])) q++;
            if (src_.compare(q, 6, "endraw") != 0) continue;
            q += 6;
            while (q < src_.size() && is_space(src_[q])) q++;
            const char emod = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q++] : '\0';
            if (src_.compare(q, 2, "%}") != 0) continue;
            std::string text = src_.substr(body, k - body);
            if (mod == '-') text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
            emit_text(text, body);
            return after_block_end(q + 2, emod, strip_next);
        }
        error(open, "missing {% endraw %}");
    }

    // The tokens of a {{ }} or {% %} tag up to its end delimiter.
    size_t tag(char kind, size_t open, size_t p, bool &strip_next) {
        tokens_.push_back(make(kind == '{' ? Token::Type::VarBegin : Token::Type::BlockBegin, open));
        const char close = kind == '{' ? '}' : '%';
        std::vector<char> brackets;
        bool after_dot = false;
        for (;;) {
            while (p < src_.size() && is_space(src_[p])) p++;
            if (p >= src_.size())
                error(open, kind == '{' ? "unexpected end of template, expected end of print statement"
                                        : "unexpected end of template, expected end of block");
            if (brackets.empty()) {
                const char mod = src_[p] == '-' || src_[p] == '+' ? src_[p] : '\0';
                const size_t q = p + (mod ? 1 : 0);
                if (q + 1 < src_.size() && src_[q] == close && src_[q + 1] == '}' && !(mod == '+' && kind == '{')) {
                    tokens_.push_back(make(kind == '{' ? Token::Type::VarEnd : Token::Type::BlockEnd, p));
                    if (kind == '{') {
                        if (mod == '-') strip_next = true;
                        return q + 2;
                    }
                    return after_block_end(q + 2, mod, strip_next);
                }
            }
            const char c = src_[p];
            if (c == '\'' || c == '"') {
                p = string_literal(p);
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                p = number(p, after_dot);
            } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t e = p;
                while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) e++;
                Token t = make(Token::Type::Name, p);
                t.text = src_.substr(p, e - p);
                tokens_.push_back(std::move(t));
                p = e;
            } else {
                static const char *ops[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(",
                                            ")",  "{",  "}",  ">",  "<",  "=",  ".", ":", "|", ",", ";"};
                const char *op = nullptr;
                for (const char *o : ops)
                    if (src_.compare(p, std::strlen(o), o) == 0) {
                        op = o;
                        break;
                    }
                if (!op) error(p, std::string("unexpected '") + c + "'");
                const char oc = op[0];
                if (op[1] == '\0' && (oc == '(' || oc == '[' || oc == '{')) {
                    brackets.push_back(oc == '(' ? ')' : oc == '[' ? ']' : '}');
                } else if (op[1] == '\0' && (oc == ')' || oc == ']' || oc == '}')) {
                    if (brackets.empty() || brackets.back() != oc) error(p, std::string("unexpected '") + oc + "'");
                    brackets.pop_back();
                }
                Token t = make(Token::Type::Op, p);
                t.text = op;
                tokens_.push_back(std::move(t));
                p += std::strlen(op);
                after_dot = std::strcmp(op, ".") == 0;
                continue;
            }
            after_dot = false;
        }
    }

    // A quoted string: the text between the quotes decoded as Python's
    // unicode-escape does (\n, \t, \', \\, \xhh, \uhhhh, \Uhhhhhhhh, octal).
    size_t string_literal(size_t p) {
        const char quote = src_[p];
        Token t = make(Token::Type::String, p);
        std::string out;
        size_t i = p + 1;
        for (;; i++) {
            if (i >= src_.size()) error(p, "unterminated string");
            const char c = src_[i];
            if (c == quote) break;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i >= src_.size()) error(p, "unterminated string");
            const char e = src_[i];
            const auto hex = [&](int digits) {
                if (i + size_t(digits) >= src_.size()) error(i, "truncated escape");
                char32_t v = 0;
                for (int d = 1; d <= digits; d++) {
                    const char h = src_[i + size_t(d)];
                    if (!std::isxdigit(static_cast<unsigned char>(h))) error(i, "truncated \\x, \\u or \\U escape");
                    v = v * 16 + char32_t(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                }
                i += size_t(digits);
                if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) error(i, "escape is not a Unicode scalar value");
                out += utf8_encode(v);
            };
            switch (e) {
            case '\n': break;  // line continuation
            case '\\': out += '\\'; break;
            case '\'': out += '\''; break;
            case '"': out += '"'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'v': out += '\v'; break;
            case 'x': hex(2); break;
            case 'u': hex(4); break;
            case 'U': hex(8); break;
            default:
                if (e >= '0' && e <= '7') {
                    char32_t v = 0;
                    int n = 0;
                    while (n < 3 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7') v = v * 8 + char32_t(src_[i++] - '0'), n++;
                    i--;
                    out += utf8_encode(v);
                } else {
                    out += '\\';  // unknown escapes stay as written
                    out += e;
                }
            }
        }
        t.text = std::move(out);
        tokens_.push_back(std::move(t));
        return i + 1;
    }

    size_t number(size_t p, bool after_dot) {
        const auto digits = [&](size_t i) {
            while (i < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[i])) || (src_[i] == '_' && i + 1 < src_.size() &&
                                                                                        std::isdigit(static_cast<unsigned char>(src_[i + 1])))))
                i++;
            return i;
        };
        size_t e = digits(p);
        bool is_float = false;
        if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
            e = digits(e + 1);
            is_float = true;
        }
        if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
            size_t q = e + 1;
            if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) q++;
            if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
                e = digits(q);
                is_float = true;
            }
        }
        std::string s;
        for (size_t i = p; i < e; i++)
            if (src_[i] != '_') s += src_[i];
        Token t = make(is_float ? Token::Type::Float : Token::Type::Int, p);
        t.text = s;
        try {
            if (is_float) t.real = std::stod(s);
            else t.integer = std::stoll(s);
        } catch (const std::exception &) {
            error(p, "number out of range: " + s);
        }
        tokens_.push_back(std::move(t));
        return e;
    }
};

}  // namespace

std::vector<Token> tokenize(const std::string &source, const std::string &name) {
    if (source.size() > kMaxTemplateBytes)
        throw Error(name + ": template of " + std::to_string(source.size()) + " bytes is over the " +
                    std::to_string(kMaxTemplateBytes >> 20) + " MiB limit");
    const size_t bad = utf8_first_invalid(source);
    if (bad != std::string::npos) throw Error(name + ": template is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    std::string src;
    src.reserve(source.size());
    for (size_t i = 0; i < source.size(); i++) {
        if (source[i] == '\r') {
            src += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') i++;
        } else {
            src += source[i];
        }
    }
    if (!src.empty() && src.back() == '\n') src.pop_back();
    return Lexer(std::move(src), name).run();
}

}  // namespace qwenc::jinja
