// The machine's arithmetic limit, beside which the benchmark puts prefill
// (as read bandwidth is put beside decode): multiply-adds per second with
// every thread running independent chains of the widest vector FMA the CPU
// has, and of the bf16 dot-product instruction where it has one.
#pragma once

namespace qwenc {

struct ComputePeak {
    double fma_f32_gflops = 0;   // f32 FMA (2 flops each), all threads
    double bf16_dot_gflops = 0;  // vdpbf16ps (AVX512-BF16); 0 where the CPU has none
    int threads = 1;
};

ComputePeak measure_compute_peak(int threads);

}  // namespace qwenc
