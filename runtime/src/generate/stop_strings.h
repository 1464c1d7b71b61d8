// Stops generation at any of a set of strings, as vLLM's `stop` does: the
// output ends just before the stop string, and while streaming, text that
// could be the start of a stop string is held back until it is not.
#pragma once
#include <string>
#include <vector>

namespace qwenc {

class StopStrings {
public:
    explicit StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    // Adds newly decoded text; returns the text that is now safe to emit.
    // After a stop string is seen, stopped() is true and nothing more comes.
    std::string feed(const std::string &text);
    std::string flush();  // the held-back tail at the end of generation
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace qwenc
