#include "generate/stop_strings.h"

namespace qwenc {

std::string StopStrings::feed(const std::string &text) {
    if (stopped_) return "";
    held_ += text;
    // Earliest complete stop string ends the output there.
    size_t cut = std::string::npos;
    for (const std::string &s : stops_)
        if (!s.empty()) cut = std::min(cut, held_.find(s));
    if (cut != std::string::npos) {
        stopped_ = true;
        std::string out = held_.substr(0, cut);
        held_.clear();
        return out;
    }
    // Hold back the longest tail that is a proper prefix of some stop string.
    size_t hold = 0;
    for (const std::string &s : stops_)
        for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), held_.size()); n > hold; n--)
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                hold = n;
                break;
            }
    std::string out = held_.substr(0, held_.size() - hold);
    held_.erase(0, held_.size() - hold);
    return out;
}

std::string StopStrings::flush() {
    std::string out = stopped_ ? "" : held_;
    held_.clear();
    return out;
}

}  // namespace qwenc
