// Helpers of the mutation tests: every field of a JSON input given every
// kind of wrong value, each outcome either a load or an InputError that
// names the file on one line.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "json_input.h"

namespace qwenc::test {

using nlohmann::json;

// Runs `load` on one mutated input: it may succeed (and check what it
// made) or throw InputError naming `path` on one line; anything else fails
// the test, with the mutation in the caller's INFO, and the sweep goes on.
struct Outcome {
    int loaded = 0, refused = 0;
};
inline void expect_loaded_or_refused(Outcome &n, const std::string &path, const std::function<void()> &load) {
    try {
        load();
        n.loaded++;
    } catch (const InputError &e) {
        const std::string what = e.what();
        if (what.rfind(path + ": ", 0) != 0 || what.find('\n') != std::string::npos) {
            FAIL_CHECK("refused, but the message does not name " << path << " on one line: " << what);
        }
        n.refused++;
    } catch (const std::exception &e) {
        FAIL_CHECK("not an InputError: " << e.what());  // and go on with the next mutation
    }
}

// Values of every JSON kind, and numbers at the edges of int32, int64 and
// uint64: a field given one of them must be used or refused, never
// converted out of range.
inline std::vector<json> wrong_values() {
    return {json(),
            json("x"),
            json(""),
            json(-1),
            json(0),
            json(1),
            json(3),
            json(2.5),
            json(-0.5),
            json(1e300),
            json(2147483648LL),
            json(int64_t(1) << 62),
            json(INT64_MAX),
            json(INT64_MIN),
            json(UINT64_MAX),
            json(true),
            json::array(),
            json::array({1}),
            json::array({-1, 1e300}),
            json::object(),
            json::object({{"type", "x"}})};
}

// Calls `each` with a copy of `doc` in which one node is replaced by one of
// wrong_values() (or, for an object's member, removed), for every node, or
// every node that `visit` accepts (by its JSON pointer) when given.
inline void for_each_field_mutation(const json &doc, const std::function<void(const json &, const std::string &)> &each,
                                    const std::function<bool(const json::json_pointer &)> &visit = {}) {
    const json flat = doc.flatten();  // leaves only; add the inner nodes
    std::vector<json::json_pointer> nodes;
    for (auto it = flat.begin(); it != flat.end(); ++it)
        for (json::json_pointer p(it.key()); !p.empty(); p = p.parent_pointer())
            if (std::find(nodes.begin(), nodes.end(), p) == nodes.end()) nodes.push_back(p);
    for (const auto &p : nodes) {
        if (visit && !visit(p)) continue;
        if (doc.at(p.parent_pointer()).is_object()) {
            json removed = doc;
            removed.at(p.parent_pointer()).erase(p.back());
            each(removed, "remove " + p.to_string());
        }
        for (const json &v : wrong_values()) {
            json changed = doc;
            changed.at(p) = v;
            each(changed, p.to_string() + " = " + v.dump());
        }
    }
}

}  // namespace qwenc::test
