#include "text/jinja/py_string.h"

#include <algorithm>
#include <cstdio>

#include <utf8proc.h>

#include "text/jinja/value.h"
#include "text/utf8.h"

namespace qwenc::jinja {

std::vector<char32_t> code_points(const std::string &s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        utf8proc_int32_t cp = 0;
        const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t *>(s.data() + i), utf8proc_ssize_t(s.size() - i), &cp);
        if (n <= 0) {  // not reached for checked input; keep the byte rather than loop
            out.push_back(0xFFFD);
            i++;
            continue;
        }
        out.push_back(char32_t(cp));
        i += size_t(n);
    }
    return out;
}

std::string from_code_points(const std::vector<char32_t> &cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < std::min(end, cps.size()); i++) out += utf8_encode(cps[i]);
    return out;
}

size_t py_len(const std::string &s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool py_isspace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string py_strip(const std::string &s, const std::optional<std::string> &chars, bool left, bool right) {
    const std::vector<char32_t> cps = code_points(s);
    std::vector<char32_t> set;
    if (chars) set = code_points(*chars);
    const auto strip = [&](char32_t c) { return chars ? std::find(set.begin(), set.end(), c) != set.end() : py_isspace(c); };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && strip(cps[b])) b++;
    if (right)
        while (e > b && strip(cps[e - 1])) e--;
    return from_code_points(cps, b, e);
}

std::vector<std::string> py_split(const std::string &s, const std::optional<std::string> &sep, int64_t maxsplit, bool from_right) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) fail("ValueError", "empty separator");
        if (!from_right) {
            size_t at = 0;
            for (;;) {
                const size_t hit = (maxsplit < 0 || int64_t(out.size()) < maxsplit) ? s.find(*sep, at) : std::string::npos;
                if (hit == std::string::npos) {
                    out.push_back(s.substr(at));
                    return out;
                }
                out.push_back(s.substr(at, hit - at));
                at = hit + sep->size();
            }
        }
        size_t end = s.size();
        for (;;) {
            const size_t hit = (maxsplit < 0 || int64_t(out.size()) < maxsplit) && end >= sep->size()
                                   ? s.rfind(*sep, end - sep->size())
                                   : std::string::npos;
            if (hit == std::string::npos) {
                out.push_back(s.substr(0, end));
                break;
            }
            out.push_back(s.substr(hit + sep->size(), end - hit - sep->size()));
            end = hit;
        }
        std::reverse(out.begin(), out.end());
        return out;
    }
    // Runs of whitespace; no empty strings at either end.
    const std::vector<char32_t> cps = code_points(s);
    if (!from_right) {
        size_t i = 0;
        while (i < cps.size()) {
            while (i < cps.size() && py_isspace(cps[i])) i++;
            if (i == cps.size()) break;
            if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
                size_t e = cps.size();
                while (e > i && py_isspace(cps[e - 1])) e--;
                out.push_back(from_code_points(cps, i, e));
                break;
            }
            size_t j = i;
            while (j < cps.size() && !py_isspace(cps[j])) j++;
            out.push_back(from_code_points(cps, i, j));
            i = j;
        }
        return out;
    }
    size_t i = cps.size();
    while (i > 0) {
        while (i > 0 && py_isspace(cps[i - 1])) i--;
        if (i == 0) break;
        if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
            size_t b = 0;
            while (b < i && py_isspace(cps[b])) b++;
            out.push_back(from_code_points(cps, b, i));
            break;
        }
        size_t j = i;
        while (j > 0 && !py_isspace(cps[j - 1])) j--;
        out.push_back(from_code_points(cps, j, i));
        i = j;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> py_splitlines(const std::string &s, bool keepends) {
    const std::vector<char32_t> cps = code_points(s);
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); i++) {
        const char32_t c = cps[i];
        const bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                         c == 0x2028 || c == 0x2029;
        if (!brk) continue;
        size_t end = i + 1;
        if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') end++;
        out.push_back(from_code_points(cps, start, keepends ? end : i));
        start = end;
        i = end - 1;
    }
    if (start < cps.size()) out.push_back(from_code_points(cps, start));
    return out;
}

std::string py_replace(const std::string &s, const std::string &old, const std::string &repl, int64_t count) {
    if (old.empty()) {  // Python inserts `repl` around every code point
        const std::vector<char32_t> cps = code_points(s);
        const size_t n = count < 0 ? cps.size() + 1 : std::min(size_t(count), cps.size() + 1);
        check_string_size(s.size() + n * repl.size());
        std::string out;
        for (size_t i = 0; i <= cps.size(); i++) {
            if (i < n) out += repl;
            if (i < cps.size()) out += utf8_encode(cps[i]);
        }
        return out;
    }
    size_t hits = 0;
    for (size_t at = s.find(old); at != std::string::npos && (count < 0 || int64_t(hits) < count); at = s.find(old, at + old.size()))
        hits++;
    if (repl.size() > old.size()) check_string_size(s.size() + hits * (repl.size() - old.size()));
    std::string out;
    size_t at = 0;
    for (size_t i = 0; i < hits; i++) {
        const size_t hit = s.find(old, at);
        out.append(s, at, hit - at);
        out += repl;
        at = hit + old.size();
    }
    out.append(s, at, std::string::npos);
    return out;
}

namespace {
template <class F>
std::string map_code_points(const std::string &s, F f) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : code_points(s)) out += utf8_encode(f(c));
    return out;
}
bool is_cased(char32_t c) {
    const auto cat = utf8proc_category(utf8proc_int32_t(c));
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}
}  // namespace

std::string py_upper(const std::string &s) {
    return map_code_points(s, [](char32_t c) { return char32_t(utf8proc_toupper(utf8proc_int32_t(c))); });
}
std::string py_lower(const std::string &s) {
    return map_code_points(s, [](char32_t c) { return char32_t(utf8proc_tolower(utf8proc_int32_t(c))); });
}
std::string py_title(const std::string &s) {
    bool previous_cased = false;
    return map_code_points(s, [&](char32_t c) {
        const bool cased = is_cased(c);
        const char32_t out = cased ? char32_t(previous_cased ? utf8proc_tolower(utf8proc_int32_t(c)) : utf8proc_totitle(utf8proc_int32_t(c))) : c;
        previous_cased = cased;
        return out;
    });
}
std::string py_capitalize(const std::string &s) {
    bool first = true;
    return map_code_points(s, [&](char32_t c) {
        const char32_t out = char32_t(first ? utf8proc_totitle(utf8proc_int32_t(c)) : utf8proc_tolower(utf8proc_int32_t(c)));
        first = false;
        return out;
    });
}

int64_t py_find(const std::string &s, const std::string &sub, bool from_right) {
    const size_t at = from_right ? s.rfind(sub) : s.find(sub);
    return at == std::string::npos ? -1 : int64_t(py_len(s.substr(0, at)));
}

int64_t py_count(const std::string &s, const std::string &sub) {
    if (sub.empty()) return int64_t(py_len(s)) + 1;
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) n++;
    return n;
}

std::string py_repr(const std::string &s) {
    const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, quote);
    for (char32_t c : code_points(s)) {
        if (c == char32_t(quote) || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            // Python escapes what Unicode calls Other or Separator, except the space.
            const auto cat = utf8proc_category(utf8proc_int32_t(c));
            const bool printable = c == ' ' || !(cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                                                 cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO ||
                                                 cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_ZS ||
                                                 cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP);
            if (printable) {
                out += utf8_encode(c);
            } else {
                char buf[16];
                if (c < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
                else if (c < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
                else std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(c));
                out += buf;
            }
        }
    }
    return out + quote;
}

std::vector<size_t> slice_indices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step) {
    const int64_t st = step.value_or(1);
    if (st == 0) fail("ValueError", "slice step cannot be zero");
    int64_t b, e;
    const auto clamp = [&](int64_t i, int64_t lo, int64_t hi) {
        if (i < 0) i += n;
        return std::min(std::max(i, lo), hi);
    };
    if (st > 0) {
        b = start ? clamp(*start, 0, n) : 0;
        e = stop ? clamp(*stop, 0, n) : n;
    } else {
        b = start ? clamp(*start, -1, n - 1) : n - 1;
        e = stop ? clamp(*stop, -1, n - 1) : -1;
    }
    std::vector<size_t> out;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(size_t(i));
    return out;
}

}  // namespace qwenc::jinja
