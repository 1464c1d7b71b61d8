#include "interrupt.h"

#include <csignal>

namespace qwenc {

namespace {
std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");

extern "C" void on_sigint(int) {
    // signal() and raise() are async-signal-safe.
    if (interrupted.exchange(true)) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
    }
}
}  // namespace

void catch_interrupts() {
    struct sigaction old {};
    if (sigaction(SIGINT, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) return;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART
    sigaction(SIGINT, &sa, nullptr);
}

const std::atomic<bool> &interrupt_flag() { return interrupted; }

bool take_interrupt() { return interrupted.exchange(false); }

}  // namespace qwenc
