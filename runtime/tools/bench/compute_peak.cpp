#include "bench/compute_peak.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "host_cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qwenc {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 24;  // independent accumulators: enough to hide any FMA latency
constexpr long kIters = 4000000;

// Each kernel runs kIters steps of kChains multiply-adds and returns flops.
// An empty asm keeps the inputs opaque so nothing is folded away.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) double fma_avx512() {
    __m512 acc[kChains];
    for (auto &a : acc) a = _mm512_setzero_ps();
    __m512 x = _mm512_set1_ps(1e-9f), y = _mm512_set1_ps(1.0f);
    for (long i = 0; i < kIters; i++) {
#pragma GCC unroll 24  // every accumulator in a register
        for (auto &a : acc) a = _mm512_fmadd_ps(x, y, a);
        __asm__ volatile("" : "+v"(x));
    }
    volatile float sink = 0;
    for (auto &a : acc) sink = sink + _mm512_reduce_add_ps(a);
    return double(kIters) * kChains * 16 * 2;
}

__attribute__((target("avx2,fma"))) double fma_avx2() {
    __m256 acc[kChains / 2];  // 16 ymm registers
    for (auto &a : acc) a = _mm256_setzero_ps();
    __m256 x = _mm256_set1_ps(1e-9f), y = _mm256_set1_ps(1.0f);
    for (long i = 0; i < kIters; i++) {
#pragma GCC unroll 24
        for (auto &a : acc) a = _mm256_fmadd_ps(x, y, a);
        __asm__ volatile("" : "+x"(x));
    }
    volatile float sink = 0;
    for (auto &a : acc) {
        float v[8];
        _mm256_storeu_ps(v, a);
        sink = sink + v[0];
    }
    return double(kIters) * (kChains / 2) * 8 * 2;
}

__attribute__((target("avx512bf16,avx512f"))) double dot_bf16() {
    __m512 acc[kChains];
    for (auto &a : acc) a = _mm512_setzero_ps();
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = x;
    for (long i = 0; i < kIters; i++) {
#pragma GCC unroll 24
        for (auto &a : acc) a = _mm512_dpbf16_ps(a, x, y);
        __asm__ volatile("" : "+v"(x));
    }
    volatile float sink = 0;
    for (auto &a : acc) sink = sink + _mm512_reduce_add_ps(a);
    return double(kIters) * kChains * 32 * 2;  // 32 bf16 products per instruction
}
#endif

// Anywhere else: plain float chains the compiler vectorizes as it can.
double fma_portable() {
    float acc[kChains * 4] = {};
    volatile float vx = 1e-9f, vy = 1.0f;  // opaque, so x * y is not known
    const float x = vx, y = vy;
    for (long i = 0; i < kIters; i++)
        for (float &a : acc) a = a + x * y;
    volatile float sink = 0;
    for (float a : acc) sink = sink + a;
    return double(kIters) * kChains * 4 * 2;
}

// GFLOP/s of `kernel` running on `threads` threads at once.
double run_once(const std::function<double()> &kernel, int threads) {
    std::vector<double> flops(size_t(threads), 0);
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) pool.emplace_back([&, t] { flops[size_t(t)] = kernel(); });
    for (auto &th : pool) th.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    return total / s / 1e9;
}

// The best of a few runs (each ~15 ms): on a shared VM one run can lose a
// time slice to the host, and a peak is what the units can do (one bench
// printed prefill at 120% of an f32 peak measured at 137 instead of ~230).
double run(const std::function<double()> &kernel, int threads) {
    double best = 0;
    for (int i = 0; i < 5; i++) best = std::max(best, run_once(kernel, threads));
    return best;
}

}  // namespace

ComputePeak measure_compute_peak(int threads) {
    ComputePeak p;
    p.threads = threads < 1 ? 1 : threads;
    std::function<double()> fma = fma_portable;
#if defined(__x86_64__)
    const auto features = host_cpu_features();
    if (features.count("avx512f")) fma = fma_avx512;
    else if (features.count("avx2") && features.count("fma")) fma = fma_avx2;
    if (features.count("avx512_bf16") && features.count("avx512f")) p.bf16_dot_gflops = run(dot_bf16, p.threads);
#endif
    p.fma_f32_gflops = run(fma, p.threads);
    return p;
}

}  // namespace qwenc
