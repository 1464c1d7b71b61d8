#include "json_input.h"

namespace qwenc {

using nlohmann::json;

void check_json_depth(std::string_view text, const std::string &source) {
    int depth = 0;
    bool in_string = false, escaped = false;
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < text.size(); i++) {
        const char c = text[i];
        if (c == '\n') line++, line_start = i + 1;
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                throw InputError(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at line " +
                                 std::to_string(line) + ", column " + std::to_string(i - line_start + 1));
        } else if (c == ']' || c == '}') {
            depth--;  // unbalanced text is the parser's to report
        }
    }
}

namespace {
template <class Json>
Json parse_checked(std::string_view text, const std::string &path) {
    check_json_depth(text, path);
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const json::exception &e) {
        // A parse_error, or out_of_range for a number too large for a
        // double ("1e999"). nlohmann's message already says where ("at line 3, column 5").
        const std::string what = e.what();
        const size_t pos = what.find("] ");  // after "[json.exception.parse_error.101]"
        throw InputError(path + ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
    }
}
}  // namespace

json read_json_file(const std::string &path) { return parse_json_text(read_text_file(path), path); }
json parse_json_text(std::string_view text, const std::string &path) { return parse_checked<json>(text, path); }

nlohmann::ordered_json read_ordered_json_file(const std::string &path) {
    return parse_ordered_json_text(read_text_file(path), path);
}
nlohmann::ordered_json parse_ordered_json_text(std::string_view text, const std::string &path) {
    return parse_checked<nlohmann::ordered_json>(text, path);
}

std::string json_excerpt(const json &v, size_t max_chars) {
    // Arrays and objects are cut before they are printed whole.
    std::string s;
    if (v.is_array() || v.is_object()) {
        s = v.is_array() ? "[" : "{";
        for (auto it = v.begin(); it != v.end() && s.size() <= max_chars; ++it) {
            if (s.size() > 1) s += ",";
            if (v.is_object()) s += json(it.key()).dump() + ":";
            s += json_excerpt(*it, max_chars);  // bounded by kMaxJsonDepth
        }
        if (s.size() <= max_chars) s += v.is_array() ? "]" : "}";
    } else {
        s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
    return s;
}

bool json_int_in(const json &v, int64_t lo, int64_t hi) {
    if (!v.is_number_integer()) return false;
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return false;
    const int64_t x = v.get<int64_t>();
    return x >= lo && x <= hi;
}

std::vector<int64_t> parse_token_ids(const json &j, const std::string &source, const char *field) {
    std::vector<int64_t> ids;
    if (!j.contains(field) || j.at(field).is_null()) return ids;
    const json &v = j.at(field);
    auto one = [&](const json &e) {
        if (!json_int_in(e, 0, INT64_MAX))
            throw InputError(source + ": field '" + field + "' must hold non-negative integer token ids");
        ids.push_back(e.get<int64_t>());
    };
    if (v.is_array()) {
        for (const json &e : v) one(e);
    } else {
        one(v);
    }
    return ids;
}

}  // namespace qwenc
