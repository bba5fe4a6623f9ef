// The machine-peak measurements: sanity only. Rates are checked to be positive and finite, never
// against thresholds, and durations only against very generous upper bounds (a shared, loaded
// machine can stretch any run; what is checked is that a short request does not run for long).
#include <gtest/gtest.h>

#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "machine_peak.hpp"
#include "memory_info.hpp"

namespace attnbench {
namespace {

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

double seconds_of(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<FmaIsa> supported_isas() {
  std::vector<FmaIsa> isas;
  for (FmaIsa isa : {FmaIsa::scalar, FmaIsa::avx2_fma, FmaIsa::avx512f})
    if (cpu_supports(isa)) isas.push_back(isa);
  return isas;
}

TEST(FmaIsa, NamesRoundTripAndDescribeTheLoop) {
  for (FmaIsa isa : {FmaIsa::scalar, FmaIsa::avx2_fma, FmaIsa::avx512f}) {
    EXPECT_EQ(fma_isa_from_string(to_string(isa)), isa);
    EXPECT_GE(fma_accumulators(isa), 8) << to_string(isa);
    EXPECT_DOUBLE_EQ(fma_flops_per_iteration(isa), 2.0 * fma_accumulators(isa) * fma_lanes(isa));
  }
  EXPECT_EQ(fma_lanes(FmaIsa::avx2_fma), 8);
  EXPECT_EQ(fma_lanes(FmaIsa::avx512f), 16);
  EXPECT_THROW(fma_isa_from_string("sse"), std::invalid_argument);
}

TEST(FmaIsa, Avx2LevelIsWhatTheCpuSupports) {
  EXPECT_TRUE(cpu_supports(FmaIsa::scalar));
  EXPECT_EQ(avx2_level_isa(), cpu_supports(FmaIsa::avx2_fma) ? FmaIsa::avx2_fma : FmaIsa::scalar);
  EXPECT_EQ(fma_peak_gflops_avx512(1, 0.01).has_value(), cpu_supports(FmaIsa::avx512f));
}

TEST(FmaLoop, CountsTheWorkOfTheThreadsThatRan) {
  for (FmaIsa isa : supported_isas()) {
    for (int threads : {1, 2, 3}) {
      const TimedWork w = run_fma_loop(isa, threads, 1000);
      EXPECT_TRUE(std::isfinite(w.seconds) && w.seconds >= 0) << to_string(isa);
      EXPECT_GE(w.threads, 1);
      EXPECT_LE(w.threads, threads);
      EXPECT_DOUBLE_EQ(w.work, w.threads * 1000.0 * fma_flops_per_iteration(isa));
    }
  }
}

TEST(FmaLoop, RejectsBadArguments) {
  EXPECT_THROW(run_fma_loop(FmaIsa::scalar, 0, 10), std::invalid_argument);
  EXPECT_THROW(run_fma_loop(FmaIsa::scalar, 1, 0), std::invalid_argument);
  EXPECT_THROW(fma_peak_gflops(0, 0.01), std::invalid_argument);
  EXPECT_THROW(fma_peak_gflops(1, 0), std::invalid_argument);
  EXPECT_THROW(fma_peak_gflops(1, -1), std::invalid_argument);
  EXPECT_THROW(fma_peak_gflops(1, std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  if (!cpu_supports(FmaIsa::avx512f)) {
    EXPECT_THROW(run_fma_loop(FmaIsa::avx512f, 1, 10), std::runtime_error);
  }
}

TEST(FmaPeak, PositiveAndFiniteForEverySupportedIsaAndThreadCount) {
  for (FmaIsa isa : supported_isas()) {
    for (int threads : {1, 2, 3}) {
      const RateMeasurement m = measure_fma_peak(isa, threads, 0.05);
      EXPECT_TRUE(positive_finite(m.rate)) << to_string(isa) << " x" << threads << ": " << m.rate;
      EXPECT_GE(m.time.repetitions, 5);
      EXPECT_GE(m.threads, 1);
      EXPECT_DOUBLE_EQ(m.rate, m.work_per_rep / m.time.median / 1e9);
    }
  }
  EXPECT_TRUE(positive_finite(fma_peak_gflops(1, 0.05)));
}

TEST(FmaPeak, ShortRequestsStayShort) {
  // 0.1 s requested; 10 s allowed, for a machine under heavy load.
  double gflops = 0;
  const double took = seconds_of([&] { gflops = fma_peak_gflops(1, 0.1); });
  EXPECT_TRUE(positive_finite(gflops));
  EXPECT_LT(took, 10.0);
}

TEST(StreamTriad, ComputesTheTriadAndCountsStreamBytes) {
  for (int threads : {1, 2, 3}) {
    StreamTriad triad(threads, std::size_t{1} << 20);
    EXPECT_EQ(triad.elements(), (std::size_t{1} << 20) / sizeof(double));
    EXPECT_FALSE(triad.verify());  // nothing computed yet
    const TimedWork w = triad.run();
    EXPECT_TRUE(triad.verify());
    EXPECT_DOUBLE_EQ(w.work, 24.0 * triad.elements());
    EXPECT_DOUBLE_EQ(triad.bytes_per_pass(), 24.0 * triad.elements());
    EXPECT_GE(w.threads, 1);
    EXPECT_TRUE(std::isfinite(w.seconds) && w.seconds >= 0);
  }
  // Odd sizes: the last thread's share takes the remainder.
  StreamTriad odd(2, 8 * 1001 + 5);
  EXPECT_EQ(odd.elements(), 1001u);
  odd.run();
  EXPECT_TRUE(odd.verify());
}

TEST(StreamTriad, PositiveAndFiniteAtSeveralThreadCounts) {
  for (int threads : {1, 2, 3}) {
    const RateMeasurement m = measure_stream_triad(threads, std::size_t{4} << 20, 0.02);
    EXPECT_TRUE(positive_finite(m.rate)) << threads << " threads: " << m.rate;
    EXPECT_GE(m.time.repetitions, 5);
  }
  EXPECT_TRUE(positive_finite(stream_triad_gbytes(1, std::size_t{4} << 20, 0.02)));
}

TEST(StreamTriad, ShortRequestsStayShort) {
  const double took = seconds_of([] { stream_triad_gbytes(2, std::size_t{8} << 20, 0.1); });
  EXPECT_LT(took, 10.0);
}

TEST(StreamTriad, RejectsBadArguments) {
  EXPECT_THROW(StreamTriad(0, 1 << 20), std::invalid_argument);
  EXPECT_THROW(StreamTriad(2, 8 * 15), std::invalid_argument);  // fewer than 8 doubles per thread
  EXPECT_THROW(stream_triad_gbytes(1, 1 << 20, 0), std::invalid_argument);
  // Far more than any machine has: refused before allocating (where the limit is known).
  if (available_memory_bytes() >= 0) {
    EXPECT_THROW(StreamTriad(1, std::size_t{1} << 60), std::runtime_error);
  }
}

TEST(Sgemm, ComputesAProductAndRestoresTheBlasThreadCount) {
  const int before = openblas_get_num_threads();
  for (int threads : {1, 2, 3}) {
    SgemmCase gemm(threads, 67);
    EXPECT_FALSE(gemm.verify());
    const TimedWork w = gemm.run();
    EXPECT_TRUE(gemm.verify());
    EXPECT_DOUBLE_EQ(w.work, 2.0 * 67 * 67 * 67);
    EXPECT_GE(w.threads, 1);
    EXPECT_EQ(openblas_get_num_threads(), before);
  }
}

TEST(Sgemm, PositiveAndFinite) {
  EXPECT_TRUE(positive_finite(sgemm_gflops(1, 128, 3)));
  EXPECT_TRUE(positive_finite(sgemm_gflops(2, 256, 3)));
  const RateMeasurement m = measure_sgemm(2, 96, 4);
  EXPECT_EQ(m.time.repetitions, 4);
  EXPECT_TRUE(positive_finite(m.rate));
}

TEST(Sgemm, RejectsBadArguments) {
  EXPECT_THROW(SgemmCase(0, 16), std::invalid_argument);
  EXPECT_THROW(SgemmCase(1, 0), std::invalid_argument);
  EXPECT_THROW(sgemm_gflops(1, 16, 0), std::invalid_argument);
  if (available_memory_bytes() >= 0) {
    EXPECT_THROW(SgemmCase(1, 1 << 30), std::runtime_error);  // 12 EiB: refused before allocating
  }
}

TEST(Sgemm, DescribesTheBlas) { EXPECT_NE(blas_description().find("OpenBLAS"), std::string::npos); }

MachinePeakOptions tiny_options() {
  MachinePeakOptions o;
  o.thread_counts = {1, 2};
  o.fma_seconds = 0.02;
  o.triad_bytes_per_array = std::size_t{1} << 20;
  o.triad_seconds = 0.01;
  o.sgemm_n = 64;
  o.sgemm_repetitions = 2;
  return o;
}

TEST(MachinePeak, MeasuresEveryFigureAtEveryThreadCount) {
  const MachinePeak peak = measure_machine_peak(tiny_options());
  EXPECT_EQ(peak.fma_isa, avx2_level_isa());
  EXPECT_EQ(peak.avx512f, cpu_supports(FmaIsa::avx512f));
  ASSERT_EQ(peak.per_threads.size(), 2u);
  for (const PeakAtThreads& p : peak.per_threads) {
    EXPECT_TRUE(positive_finite(p.fma_gflops));
    EXPECT_EQ(p.fma_avx512_gflops.has_value(), peak.avx512f);
    if (p.fma_avx512_gflops) {
      EXPECT_TRUE(positive_finite(*p.fma_avx512_gflops));
    }
    EXPECT_TRUE(positive_finite(p.triad_gbytes_per_s));
    ASSERT_TRUE(p.sgemm_gflops.has_value());
    EXPECT_TRUE(positive_finite(*p.sgemm_gflops));
  }
  ASSERT_NE(peak.at(2), nullptr);
  EXPECT_EQ(peak.at(2)->threads, 2);
  EXPECT_EQ(peak.at(7), nullptr);
}

TEST(MachinePeak, JsonHasTheKeysAndRoundTrips) {
  MachinePeakOptions o = tiny_options();
  o.sgemm_n = 0;  // skipped: null in the JSON
  o.fma_avx512 = false;
  const MachinePeak peak = measure_machine_peak(o);
  const nlohmann::json j = to_json(peak);
  for (const char* key : {"fma_isa", "avx512f", "fma", "triad", "sgemm", "per_threads"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["triad"]["bytes_per_element_counted"], 24);
  EXPECT_EQ(j["triad"]["write_allocate_counted"], false);
  ASSERT_EQ(j["per_threads"].size(), 2u);
  for (const auto& p : j["per_threads"]) {
    for (const char* key : {"threads", "fma_gflops", "fma_avx512_gflops", "triad_gbytes_per_s", "sgemm_gflops"})
      EXPECT_TRUE(p.contains(key)) << key;
    EXPECT_TRUE(p["sgemm_gflops"].is_null());
    EXPECT_TRUE(p["fma_avx512_gflops"].is_null());
  }
  const MachinePeak back = machine_peak_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(to_json(back), j);

  nlohmann::json broken = j;
  broken["per_threads"][1].erase("fma_gflops");
  try {
    machine_peak_from_json(broken);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("per_threads[1].fma_gflops"), std::string::npos) << e.what();
  }
}

TEST(MachinePeak, RejectsBadOptions) {
  MachinePeakOptions o = tiny_options();
  o.thread_counts = {1, 0};
  EXPECT_THROW(measure_machine_peak(o), std::invalid_argument);
  o = tiny_options();
  o.fma_seconds = 0;
  EXPECT_THROW(measure_machine_peak(o), std::invalid_argument);
  o = tiny_options();
  o.sgemm_n = -1;
  EXPECT_THROW(measure_machine_peak(o), std::invalid_argument);
  o = tiny_options();
  o.triad_bytes_per_array = 8 * 15;  // fewer than 8 doubles per thread at 2 threads
  EXPECT_THROW(measure_machine_peak(o), std::invalid_argument);
}

}  // namespace
}  // namespace attnbench
