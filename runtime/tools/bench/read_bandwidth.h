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

// Best of `passes` passes of a ReadProbe. Throws std::runtime_error when the
// array cannot be allocated or the child fails. one_thread: also measure with
// a single thread (else gbs_1_thread is 0).
ReadBandwidth measure_read_bandwidth(int threads, size_t bytes = size_t(2) << 30, int passes = 5, bool one_thread = true);

// The same sum, kept ready in a child process between single passes, so
// that a caller can interleave passes with its own work (decode steps) and
// compare the two over the same moments: on a shared host the bandwidth
// moves by 2x within seconds. Throws std::runtime_error when the child
// cannot allocate the array or stops answering.
class ReadProbe {
public:
    ReadProbe(int threads, size_t bytes);
    ~ReadProbe();
    ReadProbe(const ReadProbe &) = delete;
    ReadProbe &operator=(const ReadProbe &) = delete;
    size_t bytes() const { return bytes_; }
    // Seconds for one pass over the whole array with `threads` threads
    // (0: the probe's own count).
    double pass_seconds(int threads = 0);

private:
    void stop();
    size_t bytes_;
    int fd_ = -1;  // our end of the socket pair
    int pid_ = -1;
    int threads_ = 1;
};

}  // namespace qwenc
