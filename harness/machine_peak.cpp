// Measuring this machine: FMA-throughput loops (scalar, AVX2+FMA, AVX-512) dispatched at run time,
// the STREAM triad, and OpenBLAS SGEMM; the median of timed repetitions of each.
#include "machine_peak.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

#include "memory_info.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define ATTNBENCH_PEAK_X86 1
#include <immintrin.h>
#endif

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------------------------------------
// Argument checks
// ------------------------------------------------------------------------------------------------

void require_threads(int threads, const char* where) {
  if (threads < 1) {
    throw std::invalid_argument(std::string(where) + ": threads must be >= 1 (got " + std::to_string(threads) + ")");
  }
}

void require_seconds(double seconds, const char* where, const char* name = "seconds") {
  if (!(std::isfinite(seconds) && seconds > 0)) {
    throw std::invalid_argument(std::string(where) + ": " + name + " must be a finite number > 0 (got " +
                                std::to_string(seconds) + ")");
  }
}

void require_supported(FmaIsa isa) {
  if (!cpu_supports(isa)) {
    throw std::runtime_error(std::string("FMA loop: this CPU does not support ") + to_string(isa));
  }
}

/// Refuses an allocation that would not fit in what this process may still use.
void require_fits(double bytes, const std::string& what, const char* smaller) {
  const std::int64_t available = available_memory_bytes();
  constexpr double kMargin = 64.0 * (1 << 20);
  if (available >= 0 && bytes + kMargin > static_cast<double>(available)) {
    throw std::runtime_error(what + " needs " + format_bytes(static_cast<std::int64_t>(bytes)) + " but only " +
                             format_bytes(available) + " is available; pass a smaller " + smaller);
  }
}

// ------------------------------------------------------------------------------------------------
// Timing helpers
// ------------------------------------------------------------------------------------------------

/// Runs body(thread_index, team_size) on `threads` OpenMP threads and times it from the moment
/// all threads have met at a barrier to the moment all have met again.
template <class Body>
TimedWork timed_parallel(int threads, Body&& body) {
  Clock::time_point start;
  Clock::time_point stop;
  int team = 0;
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    const int nt = omp_get_num_threads();
#pragma omp barrier
#pragma omp single
    {
      team = nt;
      start = Clock::now();
    }  // implied barrier: nobody starts before the clock does
    body(tid, nt);
#pragma omp barrier
#pragma omp single nowait
    stop = Clock::now();
  }
  TimedWork w;
  w.seconds = std::chrono::duration<double>(stop - start).count();
  w.threads = team;
  return w;
}

/// Warm-up calls, then timed calls until at least min_reps and min_seconds of them (at most
/// max_reps); the rate is work per call / median seconds, in G units.
RateMeasurement repeat(const std::function<TimedWork()>& run, int warmups, int min_reps, int max_reps,
                       double min_seconds) {
  for (int i = 0; i < warmups; ++i) run();
  std::vector<double> times;
  double total = 0;
  TimedWork last;
  while (static_cast<int>(times.size()) < min_reps ||
         (total < min_seconds && static_cast<int>(times.size()) < max_reps)) {
    last = run();
    times.push_back(last.seconds);
    total += last.seconds;
  }
  RateMeasurement m;
  m.time = summarize(std::move(times));
  m.work_per_rep = last.work;
  m.threads = last.threads;
  if (!(m.time.median > 0)) {
    throw std::runtime_error("machine peak: a repetition took no measurable time (timer too coarse)");
  }
  m.rate = last.work / m.time.median / 1e9;
  return m;
}

/// Memory for `count` elements of T, 64-byte aligned, untouched (so the first writer places it).
template <class T>
T* allocate_untouched(std::size_t count) {
  const std::size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<T*>(p);
}

// ------------------------------------------------------------------------------------------------
// FMA loops. Each keeps fma_accumulators(isa) independent chains acc = acc * m + c in registers;
// with m slightly below 1 and c small every chain converges to c / (1 - m) (about 1), so values
// stay normal (no denormal slow paths, no overflow). m and c arrive as run-time arguments and the
// result is returned and stored, so the compiler can neither fold nor drop the loop.
// ------------------------------------------------------------------------------------------------

constexpr int kScalarAccumulators = 12;
constexpr int kAvx2Accumulators = 12;
constexpr int kAvx512Accumulators = 16;

/// Written once per call so the loops' results are observable.
volatile float g_fma_sink = 0;

__attribute__((noinline)) float fma_chains_scalar(std::int64_t iterations, float start, float m, float c) {
  // Twelve named chains (an array here ends up on the stack, each step a load and a store).
  float a0 = start, a1 = start + 0.001f, a2 = start + 0.002f, a3 = start + 0.003f, a4 = start + 0.004f,
        a5 = start + 0.005f, a6 = start + 0.006f, a7 = start + 0.007f, a8 = start + 0.008f, a9 = start + 0.009f,
        a10 = start + 0.010f, a11 = start + 0.011f;
  static_assert(kScalarAccumulators == 12);
  for (std::int64_t i = 0; i < iterations; ++i) {
    a0 = a0 * m + c;
    a1 = a1 * m + c;
    a2 = a2 * m + c;
    a3 = a3 * m + c;
    a4 = a4 * m + c;
    a5 = a5 * m + c;
    a6 = a6 * m + c;
    a7 = a7 * m + c;
    a8 = a8 * m + c;
    a9 = a9 * m + c;
    a10 = a10 * m + c;
    a11 = a11 * m + c;
#if defined(ATTNBENCH_PEAK_X86)
    // Keeps each chain a scalar in its own register: stops the compiler from packing the chains
    // into vectors, which would no longer be the scalar rate.
    asm("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9),
        "+x"(a10), "+x"(a11));
#endif
  }
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
}

#if defined(ATTNBENCH_PEAK_X86)
__attribute__((target("avx2,fma"), noinline)) float fma_chains_avx2(std::int64_t iterations, float start, float m,
                                                                   float c) {
  __m256 acc[kAvx2Accumulators];
  for (int k = 0; k < kAvx2Accumulators; ++k) acc[k] = _mm256_set1_ps(start + 0.001f * static_cast<float>(k));
  const __m256 vm = _mm256_set1_ps(m);
  const __m256 vc = _mm256_set1_ps(c);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < kAvx2Accumulators; ++k) acc[k] = _mm256_fmadd_ps(acc[k], vm, vc);
  }
  __m256 sum = acc[0];
  for (int k = 1; k < kAvx2Accumulators; ++k) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}

__attribute__((target("avx512f"), noinline)) float fma_chains_avx512(std::int64_t iterations, float start, float m,
                                                                    float c) {
  __m512 acc[kAvx512Accumulators];
  for (int k = 0; k < kAvx512Accumulators; ++k) acc[k] = _mm512_set1_ps(start + 0.001f * static_cast<float>(k));
  const __m512 vm = _mm512_set1_ps(m);
  const __m512 vc = _mm512_set1_ps(c);
  for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < kAvx512Accumulators; ++k) acc[k] = _mm512_fmadd_ps(acc[k], vm, vc);
  }
  __m512 sum = acc[0];
  for (int k = 1; k < kAvx512Accumulators; ++k) sum = _mm512_add_ps(sum, acc[k]);
  // (Not _mm512_reduce_add_ps: GCC 12's version trips -Wuninitialized inside the header.)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}
#endif

using FmaChains = float (*)(std::int64_t, float, float, float);

FmaChains fma_chains(FmaIsa isa) {
  switch (isa) {
#if defined(ATTNBENCH_PEAK_X86)
    case FmaIsa::avx2_fma: return fma_chains_avx2;
    case FmaIsa::avx512f: return fma_chains_avx512;
#else
    case FmaIsa::avx2_fma:
    case FmaIsa::avx512f: break;
#endif
    case FmaIsa::scalar: return fma_chains_scalar;
  }
  throw std::runtime_error(std::string("FMA loop: ") + to_string(isa) + " is not built for this architecture");
}

// ------------------------------------------------------------------------------------------------
// STREAM triad
// ------------------------------------------------------------------------------------------------

constexpr double kTriadScalar = 3.0;

void triad_range_generic(double* __restrict a, const double* __restrict b, const double* __restrict c, double s,
                         std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
}

#if defined(ATTNBENCH_PEAK_X86)
__attribute__((target("avx2,fma"))) void triad_range_avx2(double* __restrict a, const double* __restrict b,
                                                         const double* __restrict c, double s, std::size_t begin,
                                                         std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
}
#endif

using TriadRange = void (*)(double*, const double*, const double*, double, std::size_t, std::size_t);

TriadRange triad_range() {
#if defined(ATTNBENCH_PEAK_X86)
  if (cpu_supports(FmaIsa::avx2_fma)) return triad_range_avx2;
#endif
  return triad_range_generic;
}

/// Thread `tid` of `nt`'s share of n elements: a static partition with boundaries on whole
/// 64-byte lines, identical for first touch and for every pass.
std::pair<std::size_t, std::size_t> share(std::size_t n, int tid, int nt) {
  const auto at = [&](int t) {
    if (t >= nt) return n;
    return (n / static_cast<std::size_t>(nt) * static_cast<std::size_t>(t)) / 8 * 8;
  };
  return {at(tid), at(tid + 1)};
}

// Exactly representable inputs, so verify can compare for equality whether or not the compiler
// contracts b + s * c into an FMA.
double triad_b(std::size_t i) { return static_cast<double>(i % 1024); }
double triad_c(std::size_t i) { return static_cast<double>(i % 3) + 0.5; }

// ------------------------------------------------------------------------------------------------
// SGEMM
// ------------------------------------------------------------------------------------------------

float sgemm_value(std::size_t i, std::size_t salt) {
  return static_cast<float>((i * 7919 + salt * 104729) % 1000) / 1000.0f - 0.5f;
}

}  // namespace

// ================================================================================================
// FMA
// ================================================================================================

const char* to_string(FmaIsa isa) {
  switch (isa) {
    case FmaIsa::scalar: return "scalar";
    case FmaIsa::avx2_fma: return "avx2_fma";
    case FmaIsa::avx512f: return "avx512f";
  }
  return "unknown";
}

FmaIsa fma_isa_from_string(const std::string& name) {
  for (FmaIsa isa : {FmaIsa::scalar, FmaIsa::avx2_fma, FmaIsa::avx512f}) {
    if (name == to_string(isa)) return isa;
  }
  throw std::invalid_argument("unknown FMA ISA '" + name + "' (expected scalar, avx2_fma or avx512f)");
}

bool cpu_supports(FmaIsa isa) {
  switch (isa) {
    case FmaIsa::scalar: return true;
#if defined(ATTNBENCH_PEAK_X86)
    // libgcc's CPU model also checks (XGETBV) that the OS saves the YMM / ZMM state.
    case FmaIsa::avx2_fma:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FmaIsa::avx512f:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f");
#else
    case FmaIsa::avx2_fma:
    case FmaIsa::avx512f: return false;
#endif
  }
  return false;
}

FmaIsa avx2_level_isa() { return cpu_supports(FmaIsa::avx2_fma) ? FmaIsa::avx2_fma : FmaIsa::scalar; }

int fma_accumulators(FmaIsa isa) {
  switch (isa) {
    case FmaIsa::scalar: return kScalarAccumulators;
    case FmaIsa::avx2_fma: return kAvx2Accumulators;
    case FmaIsa::avx512f: return kAvx512Accumulators;
  }
  return 0;
}

int fma_lanes(FmaIsa isa) {
  switch (isa) {
    case FmaIsa::scalar: return 1;
    case FmaIsa::avx2_fma: return 8;
    case FmaIsa::avx512f: return 16;
  }
  return 0;
}

double fma_flops_per_iteration(FmaIsa isa) { return 2.0 * fma_accumulators(isa) * fma_lanes(isa); }

TimedWork run_fma_loop(FmaIsa isa, int threads, std::int64_t iterations) {
  require_threads(threads, "FMA loop");
  if (iterations < 1) {
    throw std::invalid_argument("FMA loop: iterations must be >= 1 (got " + std::to_string(iterations) + ")");
  }
  require_supported(isa);
  const FmaChains chains = fma_chains(isa);
  // Run-time constants the compiler cannot see through.
  volatile float start_v = 1.0f, m_v = 0.9999f, c_v = 0.0001f;
  const float start = start_v, m = m_v, c = c_v;
  float sink = 0;
  TimedWork w = timed_parallel(threads, [&](int, int) {
    const float r = chains(iterations, start, m, c);
#pragma omp atomic
    sink += r;
  });
  g_fma_sink = sink;
  w.work = static_cast<double>(w.threads) * static_cast<double>(iterations) * fma_flops_per_iteration(isa);
  return w;
}

RateMeasurement measure_fma_peak(FmaIsa isa, int threads, double seconds) {
  require_threads(threads, "FMA peak");
  require_seconds(seconds, "FMA peak");
  require_supported(isa);
  // Repetitions of about seconds/10. The loop length is found on ONE thread (growing it geometrically
  // until a call takes a quarter of that, which also warms the core up, then scaling from the fastest
  // of three calls): timed across a team, a short call on a busy machine measures the scheduler (a
  // preempted thread holds the closing barrier for a time slice), and scaling from that collapsed the
  // loop to a few iterations and the rate to near zero.
  const double target = seconds / 10;
  std::int64_t iterations = 256;
  TimedWork w = run_fma_loop(isa, 1, iterations);
  constexpr std::int64_t kMaxIterations = std::int64_t{1} << 40;
  while (w.seconds < target / 4 && iterations < kMaxIterations) {
    const double grow = w.seconds > 0 ? std::clamp(target / 2 / w.seconds, 2.0, 64.0) : 64.0;
    iterations = static_cast<std::int64_t>(static_cast<double>(iterations) * grow);
    w = run_fma_loop(isa, 1, iterations);
  }
  double fastest = w.seconds;
  for (int i = 0; i < 2; ++i) fastest = std::min(fastest, run_fma_loop(isa, 1, iterations).seconds);
  if (fastest > 0) {
    iterations = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(static_cast<double>(iterations) * std::min(target / fastest, 1e6)));
  }
  return repeat([&] { return run_fma_loop(isa, threads, iterations); }, 1, 5, 1000, 0.7 * seconds);
}

double fma_peak_gflops(int threads, double seconds) { return fma_peak_gflops(avx2_level_isa(), threads, seconds); }

double fma_peak_gflops(FmaIsa isa, int threads, double seconds) { return measure_fma_peak(isa, threads, seconds).rate; }

std::optional<double> fma_peak_gflops_avx512(int threads, double seconds) {
  if (!cpu_supports(FmaIsa::avx512f)) return std::nullopt;
  return fma_peak_gflops(FmaIsa::avx512f, threads, seconds);
}

// ================================================================================================
// STREAM triad
// ================================================================================================

StreamTriad::StreamTriad(int threads, std::size_t bytes_per_array)
    : threads_(threads), n_(bytes_per_array / sizeof(double)) {
  require_threads(threads, "STREAM triad");
  if (n_ < 8 * static_cast<std::size_t>(threads)) {
    throw std::invalid_argument("STREAM triad: bytes_per_array must hold at least 8 doubles per thread (got " +
                                std::to_string(bytes_per_array) + " bytes for " + std::to_string(threads) +
                                " threads)");
  }
  require_fits(3.0 * static_cast<double>(n_) * sizeof(double), "STREAM triad (3 arrays)", "bytes_per_array");
  try {
    a_ = allocate_untouched<double>(n_);
    b_ = allocate_untouched<double>(n_);
    c_ = allocate_untouched<double>(n_);
  } catch (...) {
    std::free(a_);
    std::free(b_);
    throw;
  }
  double* a = a_;
  double* b = b_;
  double* c = c_;
  const std::size_t n = n_;
  // First touch by the threads, and with the partition, that run() uses.
  timed_parallel(threads_, [&](int tid, int nt) {
    const auto [begin, end] = share(n, tid, nt);
    for (std::size_t i = begin; i < end; ++i) {
      a[i] = 0.0;
      b[i] = triad_b(i);
      c[i] = triad_c(i);
    }
  });
}

StreamTriad::~StreamTriad() {
  std::free(a_);
  std::free(b_);
  std::free(c_);
}

TimedWork StreamTriad::run() {
  const TriadRange kernel = triad_range();
  double* a = a_;
  const double* b = b_;
  const double* c = c_;
  const std::size_t n = n_;
  TimedWork w = timed_parallel(threads_, [&](int tid, int nt) {
    const auto [begin, end] = share(n, tid, nt);
    kernel(a, b, c, kTriadScalar, begin, end);
  });
  w.work = bytes_per_pass();
  ran_ = true;
  return w;
}

bool StreamTriad::verify() const {
  if (!ran_) return false;
  const std::size_t step = std::max<std::size_t>(1, n_ / 4099);
  for (std::size_t i = 0; i < n_; i += step) {
    if (a_[i] != triad_b(i) + kTriadScalar * triad_c(i)) return false;
  }
  return a_[n_ - 1] == triad_b(n_ - 1) + kTriadScalar * triad_c(n_ - 1);
}

RateMeasurement measure_stream_triad(int threads, std::size_t bytes_per_array, double seconds) {
  require_threads(threads, "STREAM triad");
  require_seconds(seconds, "STREAM triad");
  StreamTriad triad(threads, bytes_per_array);
  RateMeasurement m = repeat([&] { return triad.run(); }, 1, 5, 100000, seconds);
  if (!triad.verify()) throw std::runtime_error("STREAM triad: the result array is wrong");
  return m;
}

double stream_triad_gbytes(int threads, std::size_t bytes_per_array, double seconds) {
  return measure_stream_triad(threads, bytes_per_array, seconds).rate;
}

// ================================================================================================
// SGEMM
// ================================================================================================

SgemmCase::SgemmCase(int threads, int n) : threads_(threads), n_(n) {
  require_threads(threads, "SGEMM");
  if (n < 1) throw std::invalid_argument("SGEMM: n must be >= 1 (got " + std::to_string(n) + ")");
  const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  require_fits(3.0 * static_cast<double>(count) * sizeof(float), "SGEMM (A, B and C)", "n");
  try {
    a_ = allocate_untouched<float>(count);
    b_ = allocate_untouched<float>(count);
    c_ = allocate_untouched<float>(count);
  } catch (...) {
    std::free(a_);
    std::free(b_);
    throw;
  }
  for (std::size_t i = 0; i < count; ++i) {
    a_[i] = sgemm_value(i, 1);
    b_[i] = sgemm_value(i, 2);
    c_[i] = 0.0f;
  }
}

SgemmCase::~SgemmCase() {
  std::free(a_);
  std::free(b_);
  std::free(c_);
}

TimedWork SgemmCase::run() {
  const int previous = openblas_get_num_threads();
  openblas_set_num_threads(threads_);
  TimedWork w;
  w.threads = openblas_get_num_threads();
  const Clock::time_point start = Clock::now();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_, n_, n_, 1.0f, a_, n_, b_, n_, 0.0f, c_, n_);
  w.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  openblas_set_num_threads(previous);
  w.work = flops();
  ran_ = true;
  return w;
}

bool SgemmCase::verify() const {
  if (!ran_) return false;
  const std::size_t n = static_cast<std::size_t>(n_);
  const std::size_t picks[][2] = {{0, 0}, {n - 1, n - 1}, {n / 2, n / 3}, {n / 7, n - 1}, {n - 1, 0}};
  // cppcheck-suppress constVariable ; pick is already a reference to a const array
  for (const auto& pick : picks) {
    const std::size_t i = pick[0], j = pick[1];
    double ref = 0, magnitude = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const double term = static_cast<double>(a_[i * n + k]) * static_cast<double>(b_[k * n + j]);
      ref += term;
      magnitude += std::fabs(term);
    }
    // fp32 accumulation: error grows at most like n * eps * sum |terms|.
    const double tolerance = 1e-6 + static_cast<double>(n) * 1.2e-7 * magnitude;
    if (std::fabs(static_cast<double>(c_[i * n + j]) - ref) > tolerance) return false;
  }
  return true;
}

RateMeasurement measure_sgemm(int threads, int n, int repetitions) {
  if (repetitions < 1) {
    throw std::invalid_argument("SGEMM: repetitions must be >= 1 (got " + std::to_string(repetitions) + ")");
  }
  SgemmCase gemm(threads, n);
  RateMeasurement m = repeat([&] { return gemm.run(); }, 1, repetitions, repetitions, 0);
  if (!gemm.verify()) throw std::runtime_error("SGEMM: the BLAS's result is wrong");
  return m;
}

double sgemm_gflops(int threads, int n, int repetitions) { return measure_sgemm(threads, n, repetitions).rate; }

std::string blas_description() {
  std::string s = openblas_get_config();
  s += " (core ";
  s += openblas_get_corename();
  s += ")";
  return s;
}

// ================================================================================================
// Everything together
// ================================================================================================

const PeakAtThreads* MachinePeak::at(int threads) const {
  for (const PeakAtThreads& p : per_threads)
    if (p.threads == threads) return &p;
  return nullptr;
}

MachinePeak measure_machine_peak(const MachinePeakOptions& options) {
  std::vector<int> counts = options.thread_counts;
  if (counts.empty()) {
    counts.push_back(1);
    if (omp_get_num_procs() > 1) counts.push_back(omp_get_num_procs());
  }
  for (int t : counts) require_threads(t, "machine peak: thread_counts");
  require_seconds(options.fma_seconds, "machine peak", "fma_seconds");
  require_seconds(options.triad_seconds, "machine peak", "triad_seconds");
  // The triad's limits, checked here so that a bad size fails before minutes of FMA measuring.
  const int most_threads = *std::max_element(counts.begin(), counts.end());
  if (options.triad_bytes_per_array / sizeof(double) < 8 * static_cast<std::size_t>(most_threads)) {
    throw std::invalid_argument("machine peak: triad_bytes_per_array must hold at least 8 doubles per thread (got " +
                                std::to_string(options.triad_bytes_per_array) + " bytes for " +
                                std::to_string(most_threads) + " threads)");
  }
  require_fits(3.0 * static_cast<double>(options.triad_bytes_per_array), "machine peak: the STREAM triad",
               "triad_bytes_per_array");
  if (options.sgemm_n < 0) {
    throw std::invalid_argument("machine peak: sgemm_n must be >= 0 (got " + std::to_string(options.sgemm_n) + ")");
  }
  if (options.sgemm_repetitions < 1) {
    throw std::invalid_argument("machine peak: sgemm_repetitions must be >= 1 (got " +
                                std::to_string(options.sgemm_repetitions) + ")");
  }

  MachinePeak peak;
  peak.fma_isa = avx2_level_isa();
  peak.avx512f = cpu_supports(FmaIsa::avx512f);
  peak.triad_bytes_per_array = options.triad_bytes_per_array / sizeof(double) * sizeof(double);
  peak.sgemm_n = options.sgemm_n;
  peak.blas = blas_description();
  for (int t : counts) {
    PeakAtThreads p;
    p.threads = t;
    p.fma_gflops = fma_peak_gflops(peak.fma_isa, t, options.fma_seconds);
    if (options.fma_avx512 && peak.avx512f) p.fma_avx512_gflops = fma_peak_gflops(FmaIsa::avx512f, t, options.fma_seconds);
    peak.per_threads.push_back(p);
  }
  for (PeakAtThreads& p : peak.per_threads)
    p.triad_gbytes_per_s = stream_triad_gbytes(p.threads, options.triad_bytes_per_array, options.triad_seconds);
  if (options.sgemm_n > 0) {
    for (PeakAtThreads& p : peak.per_threads)
      p.sgemm_gflops = sgemm_gflops(p.threads, options.sgemm_n, options.sgemm_repetitions);
  }
  return peak;
}

nlohmann::json to_json(const MachinePeak& peak) {
  nlohmann::json per_threads = nlohmann::json::array();
  for (const PeakAtThreads& p : peak.per_threads) {
    per_threads.push_back({{"threads", p.threads},
                           {"fma_gflops", p.fma_gflops},
                           {"fma_avx512_gflops", p.fma_avx512_gflops ? nlohmann::json(*p.fma_avx512_gflops) : nullptr},
                           {"triad_gbytes_per_s", p.triad_gbytes_per_s},
                           {"sgemm_gflops", p.sgemm_gflops ? nlohmann::json(*p.sgemm_gflops) : nullptr}});
  }
  return {{"fma_isa", to_string(peak.fma_isa)},
          {"avx512f", peak.avx512f},
          {"fma", {{"accumulators", fma_accumulators(peak.fma_isa)}, {"lanes", fma_lanes(peak.fma_isa)}}},
          {"triad",
           {{"bytes_per_array", peak.triad_bytes_per_array},
            {"element_bytes", sizeof(double)},
            {"bytes_per_element_counted", 3 * sizeof(double)},
            {"write_allocate_counted", false}}},
          {"sgemm", {{"n", peak.sgemm_n}, {"blas", peak.blas}}},
          {"per_threads", per_threads}};
}

namespace {

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw std::invalid_argument("machine peak JSON: " + where + key + " is missing");
  return j.at(key);
}

double number(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = field(j, key, where);
  if (!v.is_number()) throw std::invalid_argument("machine peak JSON: " + where + key + " must be a number");
  return v.get<double>();
}

std::optional<double> optional_number(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return number(j, key, where);
}

}  // namespace

MachinePeak machine_peak_from_json(const nlohmann::json& j) {
  MachinePeak peak;
  const nlohmann::json& isa = field(j, "fma_isa", "");
  if (!isa.is_string()) throw std::invalid_argument("machine peak JSON: fma_isa must be a string");
  peak.fma_isa = fma_isa_from_string(isa.get<std::string>());
  const nlohmann::json& avx512 = field(j, "avx512f", "");
  if (!avx512.is_boolean()) throw std::invalid_argument("machine peak JSON: avx512f must be true or false");
  peak.avx512f = avx512.get<bool>();
  if (j.contains("triad")) peak.triad_bytes_per_array = static_cast<std::size_t>(number(j["triad"], "bytes_per_array", "triad."));
  if (j.contains("sgemm")) {
    peak.sgemm_n = static_cast<int>(number(j["sgemm"], "n", "sgemm."));
    if (j["sgemm"].contains("blas") && j["sgemm"]["blas"].is_string()) peak.blas = j["sgemm"]["blas"].get<std::string>();
  }
  const nlohmann::json& list = field(j, "per_threads", "");
  if (!list.is_array()) throw std::invalid_argument("machine peak JSON: per_threads must be an array");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "per_threads[" + std::to_string(i) + "].";
    PeakAtThreads p;
    p.threads = static_cast<int>(number(list[i], "threads", where));
    p.fma_gflops = number(list[i], "fma_gflops", where);
    p.fma_avx512_gflops = optional_number(list[i], "fma_avx512_gflops", where);
    p.triad_gbytes_per_s = number(list[i], "triad_gbytes_per_s", where);
    p.sgemm_gflops = optional_number(list[i], "sgemm_gflops", where);
    peak.per_threads.push_back(p);
  }
  return peak;
}

}  // namespace attnbench
