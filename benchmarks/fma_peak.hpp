// The FMA peak of this machine, measured: every core runs independent fused multiply-adds
// on registers (enough chains to cover the latency on two ports), so the figure is what
// the vector units give, at whatever clock they run at. The GEMM rows are judged against it.
#pragma once

namespace bench {

// GFLOP/s of `threads` threads each running FMAs `bits` wide (256: AVX2, 512: AVX-512) for
// about `seconds`; 0 when the CPU lacks that width.
double fma_peak_gflops(int bits, int threads, double seconds = 0.3);

}  // namespace bench
