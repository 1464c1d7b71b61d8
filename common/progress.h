// A progress line on stderr for long work (compiling, loading, writing
// weights). On a terminal it redraws in place; otherwise it prints a line at
// each 10% step so CI logs stay short.
#pragma once
#include <chrono>
#include <string>

namespace qwenc {

class Progress {
public:
    explicit Progress(std::string what, bool enabled = true);
    // `done` of `total` units; `detail` is shown after the percentage.
    void update(double done, double total, const std::string &detail = "");
    void finish(const std::string &detail = "");

private:
    std::string what_;
    bool enabled_, tty_;
    int last_step_ = -1;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace qwenc
