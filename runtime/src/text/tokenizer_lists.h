// tokenizer.json's two large lists, model.vocab (151k entries for Qwen2)
// and model.merges (151k), read straight into vectors by a SAX pass instead
// of into nlohmann's DOM, whose maps and strings took over half of the
// tokenizer's 0.38 s load (building and freeing them). Everything else in
// the file still becomes a DOM, with empty vocab and merges in it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qwenc {

struct TokenizerMerge {
    std::string a, b;  // for an "a b" string (older files): the whole string in a, b empty
    bool pair = false;  // ["a", "b"]
};

struct TokenizerLists {
    std::vector<std::pair<std::string, int64_t>> vocab;  // token text, id (an integer, not yet range-checked)
    std::vector<TokenizerMerge> merges;                   // in rank order
};

struct TokenizerJsonParts {
    nlohmann::json rest;  // the file, model.vocab and model.merges emptied
    TokenizerLists lists;
};

// The fast reading of a well-formed file. Returns nothing for anything
// unusual (invalid JSON, a vocab value that is not an integer, a merge that
// is neither a string nor a pair of strings, the lists given twice): the
// caller then reads the file as a DOM, whose checks name the problem.
std::optional<TokenizerJsonParts> read_tokenizer_lists(const std::string &text);

}  // namespace qwenc
