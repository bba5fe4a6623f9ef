#pragma once
// What this machine can do at best: the fp32 FMA throughput of its cores, the memory bandwidth a
// STREAM triad reaches, and the rate of the BLAS's SGEMM. These are the denominators of
// "% of the calibrated peak" and of the roofline (`attnbench calibrate`, records' pct_peak).
//
// Every measurement here reports the MEDIAN over several timed repetitions, after a warm-up, and
// times only the work: each repetition starts its clock after all threads have met at a barrier
// and stops it after all have met again (thread start-up, allocation and first touch excluded).
//
// Order matters when measuring several things in one process: OpenBLAS's pthreads workers keep
// spinning for a while (~0.1 s) after each SGEMM call and would steal cores from an OpenMP loop
// started right after it, so measure_machine_peak measures SGEMM last.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats.hpp"

namespace attnbench {

// ---------------------------------------------------------------------------------------------
// FMA throughput
// ---------------------------------------------------------------------------------------------

/// The instruction set an FMA-throughput loop uses.
///   scalar    portable C++ `acc = acc * m + c` on one float at a time (the fallback for CPUs without
///             AVX2+FMA; the compiler may contract it to a scalar FMA instruction)
///   avx2_fma  256-bit vfmadd on 8 floats (compiled with __attribute__((target("avx2,fma"))), so it
///             is available even when the build does not use -march=native)
///   avx512f   512-bit vfmadd on 16 floats (target("avx512f"))
/// Which of them the CPU (and OS) supports is decided at run time (__builtin_cpu_supports).
enum class FmaIsa { scalar, avx2_fma, avx512f };

/// "scalar", "avx2_fma", "avx512f".
const char* to_string(FmaIsa isa);
/// Parses the names to_string returns; throws std::invalid_argument otherwise.
FmaIsa fma_isa_from_string(const std::string& name);

/// Whether this CPU and OS run `isa` (scalar: always).
bool cpu_supports(FmaIsa isa);

/// The ISA of the project's kernels' level: avx2_fma where supported, else scalar. This is what
/// fma_peak_gflops(threads, seconds) measures.
FmaIsa avx2_level_isa();

/// Independent accumulator chains each thread keeps in registers (12 for scalar and AVX2, 16 for
/// AVX-512): enough to cover FMA latency x throughput on current cores (e.g. 4-cycle latency x 2
/// pipes = 8 chains on Zen 4 and Skylake, 5 x 2 = 10 on Haswell).
int fma_accumulators(FmaIsa isa);
/// fp32 lanes per register: 1, 8, 16.
int fma_lanes(FmaIsa isa);
/// Flops one loop iteration does on one thread: accumulators x lanes x 2 (a multiply-add is 2 flops).
double fma_flops_per_iteration(FmaIsa isa);

/// One timed call: its wall time, the work it did (flops or bytes, as the caller documents), and
/// the number of threads that actually ran it (OpenMP may give fewer than asked, e.g. under
/// OMP_THREAD_LIMIT; the work is counted for the threads that ran).
struct TimedWork {
  double seconds = 0;
  double work = 0;
  int threads = 0;
};

/// Runs the FMA loop once: `threads` OpenMP threads each do `iterations` iterations.
/// work = threads-that-ran x iterations x fma_flops_per_iteration(isa).
/// Throws std::invalid_argument for threads < 1 or iterations < 1, std::runtime_error when the
/// CPU does not support `isa`.
TimedWork run_fma_loop(FmaIsa isa, int threads, std::int64_t iterations);

/// A rate measured as the median of timed repetitions.
struct RateMeasurement {
  double rate = 0;          ///< work per repetition / median seconds, in G units (GFLOP/s or GB/s)
  double work_per_rep = 0;  ///< flops or bytes one repetition does
  int threads = 0;          ///< threads that ran each repetition
  SampleStats time;         ///< seconds per timed repetition
};

/// Measures the FMA throughput of `threads` threads with `isa` for about `seconds` in all
/// (calibration of the loop length, a warm-up repetition, then at least 5 timed repetitions of
/// about seconds/10 each, until 70% of `seconds` has been timed).
/// Throws std::invalid_argument for threads < 1 or seconds not finite and > 0,
/// std::runtime_error when the CPU does not support `isa`.
RateMeasurement measure_fma_peak(FmaIsa isa, int threads, double seconds);

/// Total GFLOP/s of `threads` threads running the AVX2+FMA loop (avx2_level_isa(): the scalar
/// loop on CPUs without AVX2+FMA); median of the timed repetitions of measure_fma_peak.
double fma_peak_gflops(int threads, double seconds = 1.0);
/// The same with a chosen ISA.
double fma_peak_gflops(FmaIsa isa, int threads, double seconds = 1.0);
/// The AVX-512 figure, or nullopt when the CPU has no avx512f (reported beside the AVX2 one; the
/// project's kernels target AVX2).
std::optional<double> fma_peak_gflops_avx512(int threads, double seconds = 1.0);

// ---------------------------------------------------------------------------------------------
// Memory bandwidth: STREAM triad
// ---------------------------------------------------------------------------------------------

/// Default size of each of the triad's three arrays: 256 MiB (768 MiB in all), many times the
/// largest last-level caches of current CPUs (STREAM's rule: each array at least 4x the caches).
inline constexpr std::size_t kTriadDefaultBytesPerArray = std::size_t{256} << 20;

/// STREAM's triad a[i] = b[i] + s * c[i] on three arrays of doubles (STREAM's element type).
///
/// Bytes are counted as STREAM counts them: 3 x 8 = 24 bytes per element (read b, read c, write
/// a). The write-allocate read of a that a cache performs before ordinary stores is NOT counted,
/// so the DRAM traffic actually moved is 4/3 of the figure (the loop uses ordinary, not
/// non-temporal, stores, as compiled attention kernels do).
///
/// The arrays are allocated untouched and first touched by the same threads, with the same static
/// partition, that run the triad (so pages land on the NUMA node of the thread that uses them).
class StreamTriad {
 public:
  /// Allocates three arrays of bytes_per_array bytes (rounded down to whole doubles) and
  /// initialises them with `threads` threads. Throws std::invalid_argument for threads < 1 or
  /// fewer than 8 elements per thread, std::runtime_error when 3 x bytes_per_array would not fit
  /// in the memory this process may still use (available_memory_bytes), std::bad_alloc when the
  /// allocation fails.
  StreamTriad(int threads, std::size_t bytes_per_array);
  ~StreamTriad();
  StreamTriad(const StreamTriad&) = delete;
  StreamTriad& operator=(const StreamTriad&) = delete;

  /// One timed pass; work = bytes_per_pass().
  TimedWork run();
  /// Whether a sample of a[i] equals b[i] + s * c[i] exactly (after at least one run()).
  bool verify() const;

  std::size_t elements() const { return n_; }
  int threads() const { return threads_; }
  /// 24 x elements(): the bytes STREAM counts for one pass.
  double bytes_per_pass() const { return 24.0 * static_cast<double>(n_); }

 private:
  int threads_;
  std::size_t n_;
  double* a_ = nullptr;
  double* b_ = nullptr;
  double* c_ = nullptr;
  bool ran_ = false;
};

/// Measures the triad bandwidth: set-up (allocation and first touch, not counted in `seconds`),
/// one warm-up pass, then timed passes until at least 5 and `seconds` of them.
/// rate in GB/s (10^9 bytes per second, STREAM counting). Throws as StreamTriad does, and
/// std::invalid_argument for seconds not finite and > 0, std::runtime_error if verify() fails.
RateMeasurement measure_stream_triad(int threads, std::size_t bytes_per_array, double seconds);

/// GB/s of the triad with `threads` threads (median of the timed passes of measure_stream_triad).
double stream_triad_gbytes(int threads, std::size_t bytes_per_array = kTriadDefaultBytesPerArray,
                           double seconds = 1.0);

// ---------------------------------------------------------------------------------------------
// SGEMM through the BLAS (OpenBLAS)
// ---------------------------------------------------------------------------------------------

/// C = A x B with cblas_sgemm, row-major, all n x n fp32; 2 n^3 flops per call.
class SgemmCase {
 public:
  /// Allocates and fills A, B and C. Throws std::invalid_argument for threads < 1 or n < 1.
  SgemmCase(int threads, int n);
  ~SgemmCase();
  SgemmCase(const SgemmCase&) = delete;
  SgemmCase& operator=(const SgemmCase&) = delete;

  /// One timed cblas_sgemm. The BLAS runs it on `threads` threads (openblas_set_num_threads);
  /// the BLAS's previous thread count is restored afterwards (outside the timed part).
  /// work = 2 n^3; threads = what the BLAS reported it would use.
  TimedWork run();
  /// Whether a sample of C's entries matches a float64 dot product (after at least one run()).
  bool verify() const;

  int n() const { return n_; }
  double flops() const { return 2.0 * static_cast<double>(n_) * n_ * n_; }

 private:
  int threads_;
  int n_;
  float* a_ = nullptr;
  float* b_ = nullptr;
  float* c_ = nullptr;
  bool ran_ = false;
};

/// Measures SGEMM: one warm-up call, then `repetitions` timed calls; rate in GFLOP/s.
/// Throws std::invalid_argument for threads < 1, n < 1 or repetitions < 1, std::runtime_error if
/// verify() fails.
RateMeasurement measure_sgemm(int threads, int n, int repetitions);

/// GFLOP/s of an n x n x n cblas_sgemm on `threads` BLAS threads (median of `repetitions`).
double sgemm_gflops(int threads, int n = 2048, int repetitions = 5);

/// The BLAS in use, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64 (core Zen)".
std::string blas_description();

// ---------------------------------------------------------------------------------------------
// Everything together
// ---------------------------------------------------------------------------------------------

/// What measure_machine_peak measures and for how long.
struct MachinePeakOptions {
  /// Thread counts to measure at. Empty: 1 and the number of processors OpenMP sees (if > 1).
  std::vector<int> thread_counts;
  double fma_seconds = 1.0;       ///< per FMA measurement (see measure_fma_peak)
  bool fma_avx512 = true;         ///< also measure the AVX-512 loop where the CPU has avx512f
  std::size_t triad_bytes_per_array = kTriadDefaultBytesPerArray;
  double triad_seconds = 1.0;     ///< timed passes per triad measurement
  int sgemm_n = 2048;             ///< 0: skip SGEMM
  int sgemm_repetitions = 5;
};

/// The figures at one thread count.
struct PeakAtThreads {
  int threads = 0;
  double fma_gflops = 0;                     ///< the AVX2+FMA loop (scalar where no AVX2+FMA)
  std::optional<double> fma_avx512_gflops;   ///< the AVX-512 loop; none where not measured
  double triad_gbytes_per_s = 0;             ///< STREAM counting, see StreamTriad
  std::optional<double> sgemm_gflops;        ///< none where not measured (sgemm_n = 0)
};

/// This machine's measured peaks.
struct MachinePeak {
  FmaIsa fma_isa = FmaIsa::scalar;  ///< what fma_gflops measured
  bool avx512f = false;             ///< whether the CPU has avx512f
  std::size_t triad_bytes_per_array = 0;
  int sgemm_n = 0;
  std::string blas;                 ///< blas_description()
  std::vector<PeakAtThreads> per_threads;  ///< in the order of the thread counts measured

  /// The entry for `threads`, or nullptr.
  const PeakAtThreads* at(int threads) const;
};

/// Measures every figure at every thread count: all FMA loops first, then the triads, then SGEMM
/// (see the note at the top on OpenBLAS's spinning workers). Validates the options first
/// (std::invalid_argument naming the field), including the triad's size and whether its arrays fit
/// in memory (std::runtime_error), so a bad option fails before anything is measured.
MachinePeak measure_machine_peak(const MachinePeakOptions& options = {});

/// {"fma_isa": "avx2_fma", "avx512f": true,
///  "fma": {"accumulators": 12, "lanes": 8},
///  "triad": {"bytes_per_array": …, "element_bytes": 8, "bytes_per_element_counted": 24,
///            "write_allocate_counted": false},
///  "sgemm": {"n": 2048, "blas": "OpenBLAS …"},
///  "per_threads": [{"threads": 1, "fma_gflops": …, "fma_avx512_gflops": … or null,
///                   "triad_gbytes_per_s": …, "sgemm_gflops": … or null}, …]}
nlohmann::json to_json(const MachinePeak& peak);

/// Reads what to_json writes (informational keys may be absent). Throws std::invalid_argument
/// naming the key that is missing or has the wrong type.
MachinePeak machine_peak_from_json(const nlohmann::json& j);

}  // namespace attnbench
