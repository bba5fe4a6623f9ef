// Google Benchmark over this machine's peaks, with the same code as `attnbench calibrate`
// (harness/machine_peak.hpp): the FMA-throughput loop (AVX2+FMA, and AVX-512 where the CPU has it),
// the STREAM triad and OpenBLAS SGEMM, at 1 and 2 threads (and at every processor, if more).
// Rates are the counters GFLOP/s and GB/s (10^9 units; the triad counts bytes as STREAM does:
// 24 per element, no write-allocate). Each benchmark iteration is one timed call whose time is the
// span between the threads' start and end barriers (UseManualTime).
//
//   attnbench_peak [--triad_mib=256] [--fma_iterations=1048576] [benchmark flags]
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_args.hpp"
#include "machine_context.hpp"
#include "machine_peak.hpp"

namespace {

using namespace attnbench;

std::size_t g_triad_bytes = kTriadDefaultBytesPerArray;
std::int64_t g_fma_iterations = std::int64_t{1} << 20;  // ~2 ms per call on one AVX2 core at 100 GFLOP/s

void fma_peak(benchmark::State& state, FmaIsa isa) {
  const int threads = static_cast<int>(state.range(0));
  run_fma_loop(isa, threads, g_fma_iterations);  // warm-up: thread team, clocks
  double flops = 0, seconds = 0;
  int ran = 0;
  for (auto _ : state) {
    const TimedWork w = run_fma_loop(isa, threads, g_fma_iterations);
    state.SetIterationTime(w.seconds);
    flops += w.work;
    seconds += w.seconds;
    ran = w.threads;
  }
  state.counters["GFLOP/s"] = seconds > 0 ? flops / seconds / 1e9 : 0;
  state.counters["threads_ran"] = ran;
}

void stream_triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::unique_ptr<StreamTriad> triad;
  try {
    triad = std::make_unique<StreamTriad>(threads, g_triad_bytes);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  triad->run();  // warm-up
  double bytes = 0, seconds = 0;
  for (auto _ : state) {
    const TimedWork w = triad->run();
    state.SetIterationTime(w.seconds);
    bytes += w.work;
    seconds += w.seconds;
  }
  if (!triad->verify()) {
    state.SkipWithError("STREAM triad: the result array is wrong");
    return;
  }
  state.counters["GB/s"] = seconds > 0 ? bytes / seconds / 1e9 : 0;
  state.counters["MiB_per_array"] = static_cast<double>(triad->elements() * sizeof(double)) / (1 << 20);
}

void sgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::unique_ptr<SgemmCase> case_;
  try {
    case_ = std::make_unique<SgemmCase>(threads, n);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  SgemmCase& gemm = *case_;
  gemm.run();  // warm-up: BLAS thread pool, packing buffers
  double flops = 0, seconds = 0;
  int ran = 0;
  for (auto _ : state) {
    const TimedWork w = gemm.run();
    state.SetIterationTime(w.seconds);
    flops += w.work;
    seconds += w.seconds;
    ran = w.threads;
  }
  if (!gemm.verify()) {
    state.SkipWithError("SGEMM: the BLAS's result is wrong");
    return;
  }
  state.counters["GFLOP/s"] = seconds > 0 ? flops / seconds / 1e9 : 0;
  state.counters["threads_ran"] = ran;
}

}  // namespace

int main(int argc, char** argv) {
  using attnbench::bench::whole_number;
  if (const auto text = attnbench::bench::take_flag(argc, argv, "triad_mib")) {
    const auto mib = whole_number(*text, 1);
    if (!mib) {
      std::cerr << "attnbench_peak: --triad_mib must be a whole number of MiB >= 1 (got '" << *text << "')\n";
      return 2;
    }
    g_triad_bytes = static_cast<std::size_t>(*mib) << 20;
  }
  if (const auto text = attnbench::bench::take_flag(argc, argv, "fma_iterations")) {
    const auto iterations = whole_number(*text, 1);
    if (!iterations) {
      std::cerr << "attnbench_peak: --fma_iterations must be a whole number >= 1 (got '" << *text << "')\n";
      return 2;
    }
    g_fma_iterations = *iterations;
  }

  std::vector<int> thread_counts = {1, 2};
  if (omp_get_num_procs() > 2) thread_counts.push_back(omp_get_num_procs());

  const FmaIsa isa = avx2_level_isa();
  for (int t : thread_counts)
    benchmark::RegisterBenchmark("FmaPeak", fma_peak, isa)->ArgName("threads")->Arg(t)->UseManualTime();
  // Only where the CPU has it: a skipped benchmark would read as an error in the smoke test.
  if (cpu_supports(FmaIsa::avx512f)) {
    for (int t : thread_counts)
      benchmark::RegisterBenchmark("FmaPeakAvx512", fma_peak, FmaIsa::avx512f)
          ->ArgName("threads")
          ->Arg(t)
          ->UseManualTime();
  }
  for (int t : thread_counts)
    benchmark::RegisterBenchmark("StreamTriad", stream_triad)->ArgName("threads")->Arg(t)->UseManualTime()->Unit(
        benchmark::kMillisecond);
  // SGEMM last: OpenBLAS's idle workers spin for a while after each call (see machine_peak.hpp).
  for (int t : thread_counts)
    benchmark::RegisterBenchmark("Sgemm", sgemm)
        ->ArgNames({"", "threads"})
        ->Args({2048, t})
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("fma_isa", to_string(isa));
  benchmark::AddCustomContext("fma_accumulators", std::to_string(fma_accumulators(isa)));
  benchmark::AddCustomContext("avx512f", cpu_supports(FmaIsa::avx512f) ? "yes" : "no");
  benchmark::AddCustomContext("triad_bytes_per_array", std::to_string(g_triad_bytes));
  benchmark::AddCustomContext("triad_bytes_counted", "24 per element (STREAM: read b, read c, write a; no write-allocate)");
  benchmark::AddCustomContext("blas", blas_description());
  attnbench::bench::add_machine_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
