// The machine's memory read bandwidth, measured the way decode uses memory:
// every thread streams its own slice of an array far larger than the caches
// and sums it. Runs in a child process so the array never counts towards
// the caller's peak RSS.
#pragma once
#include <cstddef>

namespace qwenc {

struct ReadBandwidth {
    double gbs_1_thread = 0;  // best of several passes, 1e9 bytes/s
    double gbs_n_threads = 0; // same, with `threads` threads
    int threads = 1;
};

// Throws std::runtime_error when the array cannot be allocated or the child
// fails. one_thread: also measure with a single thread (else gbs_1_thread is 0).
ReadBandwidth measure_read_bandwidth(int threads, size_t bytes = size_t(2) << 30, int passes = 5, bool one_thread = true);

}  // namespace qwenc
