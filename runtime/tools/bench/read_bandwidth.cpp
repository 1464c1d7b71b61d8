#include "bench/read_bandwidth.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/socket.h>
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

// Seconds for one pass of `threads` threads, each over its slice.
double sum_pass_seconds(const uint64_t *data, size_t words, int threads) {
    std::vector<uint64_t> sink(static_cast<size_t>(threads), 0);
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        const size_t lo = words * size_t(t) / size_t(threads), hi = words * size_t(t + 1) / size_t(threads);
        pool.emplace_back([&, t, lo, hi] { sink[size_t(t)] = sum_words(data + lo, hi - lo); });
    }
    for (auto &th : pool) th.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    volatile uint64_t keep = 0;
    for (uint64_t v : sink) keep = keep + v;
    return s;
}

// The array, in 2 MB pages and touched; nullptr when it cannot be allocated.
uint64_t *probe_array(size_t words, int threads) {
    auto *data = static_cast<uint64_t *>(std::aligned_alloc(size_t(2) << 20, words * 8));
    if (!data) return nullptr;
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
    return data;
}

// Reads exactly n bytes (false on EOF or error).
bool read_all(int fd, void *p, size_t n) {
    auto *c = static_cast<char *>(p);
    while (n > 0) {
        const ssize_t k = read(fd, c, n);
        if (k <= 0) return false;
        c += k, n -= size_t(k);
    }
    return true;
}
// Writes exactly n bytes; MSG_NOSIGNAL: a probe that died is an error, not
// a SIGPIPE that kills the caller.
bool send_all(int fd, const void *p, size_t n) {
    auto *c = static_cast<const char *>(p);
    while (n > 0) {
        const ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        c += k, n -= size_t(k);
    }
    return true;
}
}  // namespace

ReadProbe::ReadProbe(int threads, size_t bytes) : bytes_(bytes / 8 * 8) {
    if (threads < 1) threads = 1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error("cannot start the read-bandwidth probe: socketpair failed");
    const pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]), close(sv[1]);
        throw std::runtime_error("cannot start the read-bandwidth probe: fork failed");
    }
    if (pid == 0) {
        // The child: announce the array (1) or its absence (0), then one
        // pass per request (its thread count) until the parent closes its end.
        close(sv[0]);
        uint64_t *data = probe_array(bytes_ / 8, threads);
        const char ready = data ? 1 : 0;
        if (!send_all(sv[1], &ready, 1) || !data) _exit(2);
        int32_t pass_threads = 0;
        while (read_all(sv[1], &pass_threads, sizeof pass_threads)) {
            const double s = sum_pass_seconds(data, bytes_ / 8, pass_threads);
            if (!send_all(sv[1], &s, sizeof s)) break;
        }
        _exit(0);
    }
    close(sv[1]);
    fd_ = sv[0], pid_ = int(pid), threads_ = threads;
    char ready = 0;
    if (!read_all(fd_, &ready, 1) || !ready) {
        stop();
        throw std::runtime_error("cannot measure read bandwidth: could not allocate " + std::to_string(bytes >> 20) + " MiB");
    }
}

ReadProbe::~ReadProbe() { stop(); }

void ReadProbe::stop() {
    if (fd_ >= 0) close(fd_);  // the child's read sees EOF and it exits
    if (pid_ > 0) waitpid(pid_t(pid_), nullptr, 0);
    fd_ = pid_ = -1;
}

double ReadProbe::pass_seconds(int threads) {
    const int32_t req = threads < 1 ? threads_ : threads;
    double s = 0;
    if (fd_ < 0 || !send_all(fd_, &req, sizeof req) || !read_all(fd_, &s, sizeof s))
        throw std::runtime_error("cannot measure read bandwidth: the probe process stopped");
    return s;
}

ReadBandwidth measure_read_bandwidth(int threads, size_t bytes, int passes, bool one_thread) {
    ReadProbe probe(threads, bytes);
    auto best_gbs = [&](int n) {
        double best = 0;
        for (int pass = 0; pass < passes; pass++) best = std::max(best, double(probe.bytes()) / probe.pass_seconds(n) / 1e9);
        return best;
    };
    ReadBandwidth r;
    r.threads = std::max(threads, 1);
    if (one_thread || r.threads == 1) r.gbs_1_thread = best_gbs(1);
    r.gbs_n_threads = r.threads == 1 ? r.gbs_1_thread : best_gbs(r.threads);
    return r;
}

}  // namespace qwenc
