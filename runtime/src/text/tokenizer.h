// A Hugging Face tokenizer.json of the kind Qwen2 uses: NFC normalizer,
// Split pre-tokenizer (a regex, "Isolated") followed by ByteLevel, a BPE
// model with ranked merges, and added tokens recognised in input text.
// Anything else in the file is refused with a message naming the field.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace qwenc {

struct TokenizerLists;  // tokenizer_lists.h

class Tokenizer {
public:
    // Throws InputError naming the file and the problem.
    static std::unique_ptr<Tokenizer> load(const std::string &path);
    // Largest token id accepted: ids index per-token tables, and real
    // vocabularies stay far below (Qwen2: 151,665 tokens).
    static constexpr int32_t kMaxTokenId = (1 << 22) - 1;
    // Longest added token accepted (real ones are tens of bytes): matching
    // them costs at most this many steps per byte of input.
    static constexpr size_t kMaxAddedTokenBytes = 256;
    ~Tokenizer();

    // Token ids of `text`; added tokens ("<|im_start|>", ...) are recognised
    // when parse_special. Throws InputError on invalid UTF-8, and, given
    // `max_tokens` >= 0, on text too long to make fewer tokens than that even
    // if every token were the longest (refused before any work: a paste far
    // longer than the context is not tokenized first). Time and memory grow
    // as n log n in the length of the text.
    std::vector<int32_t> encode(const std::string &text, bool parse_special = true, int64_t max_tokens = -1) const;
    // The most bytes one token stands for.
    size_t max_token_bytes() const { return max_token_bytes_; }
    // The raw bytes token `id` stands for ("" for ids outside the vocabulary).
    const std::string &token_bytes(int32_t id) const;
    // Id of an exact token text (vocabulary or added token), or -1.
    int32_t token_id(const std::string &content) const;
    bool is_special(int32_t id) const;
    int32_t vocab_size() const { return int32_t(id_bytes_.size()); }

private:
    Tokenizer() = default;
    // `lists`: the vocabulary and merges read apart from `j` (see
    // tokenizer_lists.h), or null to take them from `j`.
    static std::unique_ptr<Tokenizer> from_json(const nlohmann::json &j, const std::string &path, const TokenizerLists *lists);
    void encode_plain(const std::string &text, std::vector<int32_t> &out) const;
    void bpe(const std::string &piece, std::vector<int32_t> &out) const;

    struct Regex;
    std::unique_ptr<Regex> split_;
    std::unordered_map<std::string, int32_t> vocab_;  // byte-level token text -> id
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left id, right id) -> (rank, merged id)
    int32_t byte_token_[256] = {};                    // id of each single byte
    std::vector<std::string> id_bytes_;               // id -> raw bytes
    std::vector<bool> special_;
    struct Added {
        std::string content;
        int32_t id;
    };
    std::vector<Added> added_;  // in the file's order
    struct TrieNode {
        std::map<unsigned char, int32_t> next;  // byte -> node
        int32_t id = -1;                         // the added token that ends here
    };
    std::vector<TrieNode> added_trie_;  // node 0: the root
    size_t max_token_bytes_ = 1;
    // Pieces up to kCachedPieceBytes long are remembered, at most kCacheEntries.
    static constexpr size_t kCacheEntries = 1 << 16;
    static constexpr size_t kCachedPieceBytes = 64;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace qwenc
