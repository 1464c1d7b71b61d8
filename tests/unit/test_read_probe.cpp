// ReadProbe: the read-bandwidth probe the benchmark interleaves with decode
// steps, a child process that sums its array once per request; and
// measure_read_bandwidth, its best of several passes.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "bench/read_bandwidth.h"

using namespace qwenc;

namespace {
// Child processes of this process (live or not yet reaped), from /proc.
int children() {
    int n = 0;
    DIR *d = opendir("/proc");
    while (dirent *e = readdir(d)) {
        const std::string stat = std::string("/proc/") + e->d_name + "/stat";
        FILE *f = std::fopen(stat.c_str(), "r");
        if (!f) continue;
        int pid = 0, ppid = 0;
        char state = 0;
        if (std::fscanf(f, "%d %*s %c %d", &pid, &state, &ppid) == 3 && ppid == getpid()) n++;
        std::fclose(f);
    }
    closedir(d);
    return n;
}
}  // namespace

TEST_CASE("each pass reads the whole array in a plausible time") {
    const size_t bytes = size_t(64) << 20;
    ReadProbe probe(2, bytes);
    CHECK(probe.bytes() == bytes);
    for (int i = 0; i < 3; i++) {
        const double s = probe.pass_seconds();
        // Between 1 GB/s and 2 TB/s: a pass that returned at once (no sum)
        // or never would fail this.
        CHECK(s > double(bytes) / 2e12);
        CHECK(s < double(bytes) / 1e9);
    }
}

TEST_CASE("a pass may use fewer threads than the probe has") {
    const size_t bytes = size_t(64) << 20;
    ReadProbe probe(2, bytes);
    const double s = probe.pass_seconds(1);
    CHECK(s > double(bytes) / 2e12);
    CHECK(s < double(bytes) / 1e9);
}

TEST_CASE("measure_read_bandwidth reports one thread and all of them") {
    const ReadBandwidth r = measure_read_bandwidth(2, size_t(64) << 20, 2, true);
    CHECK(r.threads == 2);
    CHECK(r.gbs_1_thread > 1);
    CHECK(r.gbs_n_threads > 1);
    CHECK_THROWS_WITH(measure_read_bandwidth(1, size_t(1) << 60, 1, false), Catch::Contains("could not allocate"));
}

TEST_CASE("the probe process ends with the probe") {
    const int before = children();
    {
        ReadProbe probe(1, size_t(16) << 20);
        probe.pass_seconds();
        CHECK(children() == before + 1);
    }
    CHECK(children() == before);
}

TEST_CASE("an array that cannot be allocated is an error, not a hang") {
    CHECK_THROWS_WITH(ReadProbe(1, size_t(1) << 60), Catch::Contains("could not allocate"));
}
