#include "text/tokenizer_lists.h"

namespace qwenc {

using nlohmann::json;

namespace {

// A SAX handler that builds the DOM (as nlohmann's parser would) except
// inside root.model.vocab and root.model.merges, whose elements go to
// TokenizerLists. Returning false from a handler stops the parse: any
// container inside the lists other than a merge pair does, so while in a
// list, the list is the innermost open container.
class ListsReader {
public:
    explicit ListsReader(TokenizerJsonParts &out) : out_(out) {}

    bool null() { return value(json()); }
    bool boolean(bool v) { return value(json(v)); }
    bool number_integer(json::number_integer_t v) { return in_vocab() ? vocab_id(v) : !in_merges() && value(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) {
        return in_vocab() ? v <= uint64_t(INT64_MAX) && vocab_id(int64_t(v)) : !in_merges() && value(json(v));
    }
    bool number_float(json::number_float_t v, const json::string_t &) { return !in_lists() && value(json(v)); }
    bool string(json::string_t &s) {
        if (in_merges()) {
            out_.lists.merges.push_back({std::move(s), "", false});
            return true;
        }
        if (in_pair()) {
            TokenizerMerge &m = out_.lists.merges.back();
            if (pair_strings_ == 0) m.a = std::move(s);
            else if (pair_strings_ == 1) m.b = std::move(s);
            else return false;  // more than two
            pair_strings_++;
            return true;
        }
        return !in_vocab() && value(json(std::move(s)));
    }
    bool binary(json::binary_t &) { return false; }
    bool key(json::string_t &k) {
        if (in_vocab()) {
            vocab_key_ = std::move(k);
            return true;
        }
        stack_.back().key = std::move(k);
        return true;
    }
    bool start_object(std::size_t) {
        if (in_lists()) return false;  // an object inside the lists
        const bool vocab = at_model_list("vocab");
        if (vocab && seen_vocab_) return false;
        open(json::object());
        if (vocab) mode_ = Mode::Vocab, seen_vocab_ = true;
        return true;
    }
    bool start_array(std::size_t) {
        if (in_merges()) {  // a ["a", "b"] merge
            out_.lists.merges.push_back({"", "", true});
            mode_ = Mode::Pair, pair_strings_ = 0;
            return true;
        }
        if (in_lists()) return false;  // an array inside the vocab or a pair
        const bool merges = at_model_list("merges");
        if (merges && seen_merges_) return false;
        open(json::array());
        if (merges) mode_ = Mode::Merges, seen_merges_ = true;
        return true;
    }
    bool end_object() { return close(); }
    bool end_array() {
        if (in_pair()) {
            mode_ = Mode::Merges;
            return pair_strings_ == 2;
        }
        return close();
    }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) { return false; }

private:
    enum class Mode { None, Vocab, Merges, Pair };
    struct Open {
        json *node;
        std::string key;  // the last key read in it (objects)
    };

    bool in_vocab() const { return mode_ == Mode::Vocab; }
    bool in_merges() const { return mode_ == Mode::Merges; }
    bool in_pair() const { return mode_ == Mode::Pair; }
    bool in_lists() const { return mode_ != Mode::None; }

    // Whether a container opening now is root.model.<name>.
    bool at_model_list(const char *name) const {
        return stack_.size() == 2 && stack_[0].node->is_object() && stack_[0].key == "model" && stack_[1].node->is_object() &&
               stack_[1].key == name;
    }
    bool vocab_id(int64_t id) {
        out_.lists.vocab.emplace_back(std::move(vocab_key_), id);
        return true;
    }
    // Places v in the open container (or as the root); the new node.
    json *place(json v) {
        if (stack_.empty()) {
            out_.rest = std::move(v);
            return &out_.rest;
        }
        json &top = *stack_.back().node;
        if (top.is_object()) {
            json &slot = top[stack_.back().key];
            slot = std::move(v);
            return &slot;
        }
        top.push_back(std::move(v));
        return &top.back();
    }
    bool value(json v) {
        if (in_lists()) return false;
        place(std::move(v));
        return true;
    }
    void open(json v) { stack_.push_back({place(std::move(v)), ""}); }
    // Closes the innermost container: the list itself while in one.
    bool close() {
        mode_ = Mode::None;
        stack_.pop_back();
        return true;
    }

    TokenizerJsonParts &out_;
    std::vector<Open> stack_;  // the open containers, outermost first
    Mode mode_ = Mode::None;
    bool seen_vocab_ = false, seen_merges_ = false;
    std::string vocab_key_;
    int pair_strings_ = 0;
};

}  // namespace

std::optional<TokenizerJsonParts> read_tokenizer_lists(const std::string &text) {
    TokenizerJsonParts parts;
    ListsReader reader(parts);
    if (!json::sax_parse(text, &reader)) return std::nullopt;
    return parts;
}

}  // namespace qwenc
