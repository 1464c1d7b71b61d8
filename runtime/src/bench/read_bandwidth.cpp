#include "read_bandwidth.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace qwenc {

namespace {

using Clock = std::chrono::steady_clock;

// Eight independent accumulators so the loads, not the adds, are the limit;
// the compiler vectorizes this to the widest loads the build allows.
uint64_t sum_words(const uint64_t *p, size_t n) {
    uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += p[i + k];
    for (; i < n; i++) a[0] += p[i];
    uint64_t s = 0;
    for (uint64_t v : a) s += v;
    return s;
}

// Best bandwidth over `passes` passes of `threads` threads, each over its slice.
double best_pass_gbs(const uint64_t *data, size_t words, int threads, int passes) {
    double best = 0;
    std::vector<uint64_t> sink(static_cast<size_t>(threads), 0);
    for (int pass = 0; pass < passes; pass++) {
        const auto t0 = Clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; t++) {
            const size_t lo = words * size_t(t) / size_t(threads), hi = words * size_t(t + 1) / size_t(threads);
            pool.emplace_back([&, t, lo, hi] { sink[size_t(t)] = sum_words(data + lo, hi - lo); });
        }
        for (auto &th : pool) th.join();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::max(best, double(words * 8) / s / 1e9);
    }
    volatile uint64_t keep = 0;
    for (uint64_t v : sink) keep = keep + v;
    return best;
}

ReadBandwidth measure_in_this_process(int threads, size_t bytes, int passes, bool one_thread) {
    const size_t words = bytes / 8;
    auto *data = static_cast<uint64_t *>(std::aligned_alloc(size_t(2) << 20, words * 8));
    if (!data) throw std::runtime_error("cannot allocate " + std::to_string(bytes >> 20) + " MiB to measure read bandwidth");
    // 2 MB pages, as the runtime asks for the weights (see MappedFile): on
    // 4 KB pages the same loop reads ~20% slower, which would flatter decode.
    ::madvise(data, words * 8, MADV_HUGEPAGE);
    // Touch every page (with threads, so pages spread as they would for the weights).
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        const size_t lo = words * size_t(t) / size_t(threads), hi = words * size_t(t + 1) / size_t(threads);
        pool.emplace_back([=] {
            for (size_t i = lo; i < hi; i++) data[i] = i;
        });
    }
    for (auto &th : pool) th.join();
    ReadBandwidth r;
    r.threads = threads;
    if (one_thread || threads == 1) r.gbs_1_thread = best_pass_gbs(data, words, 1, passes);
    r.gbs_n_threads = threads == 1 ? r.gbs_1_thread : best_pass_gbs(data, words, threads, passes);
    std::free(data);
    return r;
}

}  // namespace

ReadBandwidth measure_read_bandwidth(int threads, size_t bytes, int passes, bool one_thread) {
    if (threads < 1) threads = 1;
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("cannot measure read bandwidth: pipe failed");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("cannot measure read bandwidth: fork failed");
    if (pid == 0) {
        close(fds[0]);
        ReadBandwidth r{};
        try {
            r = measure_in_this_process(threads, bytes, passes, one_thread);
        } catch (...) {
            _exit(2);
        }
        const ssize_t n = write(fds[1], &r, sizeof r);
        _exit(n == ssize_t(sizeof r) ? 0 : 3);
    }
    close(fds[1]);
    ReadBandwidth r{};
    const ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != ssize_t(sizeof r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("cannot measure read bandwidth: could not allocate or read " +
                                 std::to_string(bytes >> 20) + " MiB");
    return r;
}

}  // namespace qwenc
