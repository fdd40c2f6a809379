// CSV parsing throughput on ~64 MB of generated numeric text (bytes/s of CSV consumed).
// Run: ./build/release/benchmarks/nx_bench_io_csv --benchmark_format=json
#include <benchmark/benchmark.h>

#include <charconv>
#include <random>
#include <string>

#include <nx/io/csv.hpp>
#include <nx/nx.hpp>

namespace {

constexpr size_t kTargetBytes = size_t{64} << 20;
constexpr int kColumns = 10;

// Rows of kColumns values until the text reaches kTargetBytes. Floats are f32 values in
// their shortest round-trip form ("-12.34567"), the shape of typical exported ML data.
std::string make_csv(bool floats) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> real(-1000.0f, 1000.0f);
  std::uniform_int_distribution<int64_t> integer(-1000000, 1000000);
  std::string text;
  text.reserve(kTargetBytes + 256);
  for (int c = 0; c < kColumns; ++c) text += (c ? ",c" : "c") + std::to_string(c);
  text += '\n';
  char buf[64];
  while (text.size() < kTargetBytes) {
    for (int c = 0; c < kColumns; ++c) {
      auto r = floats ? std::to_chars(buf, buf + sizeof buf, real(rng)) : std::to_chars(buf, buf + sizeof buf, integer(rng));
      text.append(buf, r.ptr);
      text += c + 1 < kColumns ? ',' : '\n';
    }
  }
  return text;
}

const std::string& float_csv() {
  static const std::string text = make_csv(true);
  return text;
}
const std::string& int_csv() {
  static const std::string text = make_csv(false);
  return text;
}

void run(benchmark::State& state, const std::string& text, const nx::io::CsvOpts& opts) {
  for (auto _ : state) benchmark::DoNotOptimize(nx::io::parse_csv(text, opts));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

void BM_CsvFloatColumnsInferred(benchmark::State& state) { run(state, float_csv(), {}); }
BENCHMARK(BM_CsvFloatColumnsInferred)->Unit(benchmark::kMillisecond);

void BM_CsvFloatColumnsAsF32(benchmark::State& state) { run(state, float_csv(), {.dtype = nx::f32}); }
BENCHMARK(BM_CsvFloatColumnsAsF32)->Unit(benchmark::kMillisecond);

void BM_CsvIntColumnsInferred(benchmark::State& state) { run(state, int_csv(), {}); }
BENCHMARK(BM_CsvIntColumnsInferred)->Unit(benchmark::kMillisecond);

// Two of ten columns: the other eight are only scanned.
void BM_CsvFloatTwoColumnsSelected(benchmark::State& state) {
  run(state, float_csv(), {.columns = {"c3", "c7"}});
}
BENCHMARK(BM_CsvFloatTwoColumnsSelected)->Unit(benchmark::kMillisecond);

}  // namespace
