// Reading untrusted JSON: every file and line a user or a downloaded model
// directory supplies goes through here, so the limits are stated once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "file_io.h"  // read_text_file
#include "input_error.h"

namespace qwenc {

// Deepest nesting of arrays and objects accepted. Real configs, tokenizers
// and request bodies stay below 20; walking or printing a value recurses
// once per level, so a value nested a million deep would overflow the stack.
constexpr int kMaxJsonDepth = 128;

// Throws InputError naming `source` and the line and column where `text`
// nests deeper than kMaxJsonDepth. One pass, no recursion; call it before
// any parser (nlohmann's DOM, a SAX reader) sees the text.
void check_json_depth(std::string_view text, const std::string &source);

// Reads and parses a JSON file; throws InputError naming the file.
nlohmann::json read_json_file(const std::string &path);
// The same for text already read from `path` (or a line: `path` then says where).
nlohmann::json parse_json_text(std::string_view text, const std::string &path);
// The same keeping objects' keys in the order the text gives them: for data
// that is shown again, as a chat template's tojson shows tool definitions.
nlohmann::ordered_json read_ordered_json_file(const std::string &path);
nlohmann::ordered_json parse_ordered_json_text(std::string_view text, const std::string &path);

// A value for an error message: its JSON text, cut to `max_chars` with "..."
// (a bad value may be megabytes long).
std::string json_excerpt(const nlohmann::json &v, size_t max_chars = 80);

// Whether `v` is a JSON integer within [lo, hi]. Unsigned values above
// INT64_MAX are outside every such range (get<int64_t>() would wrap them).
bool json_int_in(const nlohmann::json &v, int64_t lo, int64_t hi);

// A token-id field of a config file: one id, a list of ids, or absent/null
// (empty). Throws InputError naming `source` and the field otherwise.
std::vector<int64_t> parse_token_ids(const nlohmann::json &j, const std::string &source, const char *field);

}  // namespace qwenc
