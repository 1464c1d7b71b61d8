#include "progress.h"

#include <cstdio>
#include <unistd.h>

namespace qwenc {

Progress::Progress(std::string what, bool enabled)
    : what_(std::move(what)), enabled_(enabled), tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::update(double done, double total, const std::string &detail) {
    if (!enabled_ || total <= 0) return;
    const double frac = done / total;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (now - last_draw_ < std::chrono::milliseconds(100) && frac < 1.0) return;
        last_draw_ = now;
        std::fprintf(stderr, "\r%s: %3.0f%% %s\033[K", what_.c_str(), 100.0 * frac, detail.c_str());
    } else {
        const int step = int(frac * 10);
        if (step == last_step_) return;
        last_step_ = step;
        std::fprintf(stderr, "%s: %3.0f%% %s\n", what_.c_str(), 100.0 * frac, detail.c_str());
    }
    std::fflush(stderr);
}

void Progress::finish(const std::string &detail) {
    if (!enabled_) return;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "%s%s: done in %.2f s%s%s%s%s\n", tty_ ? "\r" : "", what_.c_str(), secs,
                 detail.empty() ? "" : " (", detail.c_str(), detail.empty() ? "" : ")", tty_ ? "\033[K" : "");
    std::fflush(stderr);
}

}  // namespace qwenc
