// The harness's own cost per repetition, outside the timed kernel call (issue 6 target: < 1% of a
// 1 ms kernel). It drives the RepetitionLoop that `run` and `sweep` use, with the stopping rule
// evaluating the median's interval after every sample, and reports
//   loop  = (wall time of all repetitions - the sum of the timed samples) / repetitions:
//           the std::function dispatch, the rule (sorted insert, interval ranks), bookkeeping;
//   timer = the time a sample shows for an empty call: the clock reads inside the timed region
//           (a bias added to every sample, not part of the loop above).
// once for an empty callable (the overhead alone, precise) and once for a ~1 ms busy loop (the
// figure of the target: its relative cost, which a loaded machine inflates with preemptions that
// land between samples). Each is the median of --trials trials.
//
//   attnbench_harness_overhead [--kernel-ms=1] [--reps=2000] [--trials=5] [--cache=hot|cold]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "bench_args.hpp"
#include "measure.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using attnbench::bench::take_flag;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// A dependent floating-point chain the compiler cannot shorten: `iterations` steps.
double busy(long iterations) {
  double x = 1.0;
  for (long i = 0; i < iterations; ++i) {
    x = x * 0.999999 + 1e-7;
    asm volatile("" : "+x"(x));
  }
  return x;
}

/// Iterations of busy() that take about `seconds` (the fastest of a few calibration calls).
long calibrate(double seconds) {
  constexpr long probe = 1 << 20;
  double fastest = 1e9;
  for (int i = 0; i < 5; ++i) {
    const Clock::time_point start = Clock::now();
    busy(probe);
    fastest = std::min(fastest, seconds_since(start));
  }
  return std::max(1L, long(double(probe) * seconds / fastest));
}

struct Trial {
  double loop_s = 0;    ///< per repetition, outside the timed call
  double sample_s = 0;  ///< median sample
};

Trial trial(const std::function<void()>& fn, int reps, attnbench::CacheMode cache) {
  attnbench::MeasureOptions o;
  o.warmup_runs = 3;
  o.warmup_min_seconds = 0;
  o.min_reps = reps;  // the rule evaluates the interval after every sample, but stops only at reps
  o.max_reps = reps;
  o.min_seconds = 0;
  o.max_seconds = 1e6;
  o.ci_target = 0.02;
  o.cache = cache;
  attnbench::RepetitionLoop loop(fn, o);
  loop.warm_up();
  const Clock::time_point start = Clock::now();
  while (!loop.done()) loop.repeat();
  const double wall = seconds_since(start);
  std::vector<double> samples = loop.result().samples;
  const double timed = std::accumulate(samples.begin(), samples.end(), 0.0);
  std::nth_element(samples.begin(), samples.begin() + std::ptrdiff_t(samples.size() / 2), samples.end());
  return {(wall - timed) / reps, samples[samples.size() / 2]};
}

Trial median_trial(const std::function<void()>& fn, int reps, int trials, attnbench::CacheMode cache) {
  std::vector<Trial> all;
  all.reserve(std::size_t(trials));  // >= 1: main checks
  for (int t = 0; t < trials; ++t) all.push_back(trial(fn, reps, cache));
  auto mid = [&](auto field) {
    std::vector<double> v;
    v.reserve(all.size());
    for (const Trial& t : all) v.push_back(t.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {mid(&Trial::loop_s), mid(&Trial::sample_s)};
}

}  // namespace

int main(int argc, char** argv) {
  using attnbench::bench::positive_number;
  using attnbench::bench::whole_number;
  const std::optional<double> kernel_ms_flag = positive_number(take_flag(argc, argv, "kernel-ms").value_or("1"));
  const std::optional<long long> reps_flag = whole_number(take_flag(argc, argv, "reps").value_or("2000"), 1);
  const std::optional<long long> trials_flag = whole_number(take_flag(argc, argv, "trials").value_or("5"), 1);
  std::optional<attnbench::CacheMode> cache_flag;
  try {
    cache_flag = attnbench::parse_cache_mode(take_flag(argc, argv, "cache").value_or("hot"));
  } catch (const std::exception&) {  // reported below, with the other bad values
  }
  if (argc > 1 || !kernel_ms_flag || !reps_flag || *reps_flag > 100000000 || !trials_flag || *trials_flag > 10000 || !cache_flag) {
    std::fprintf(stderr,
                 "%s: bad or unknown option; usage: %s [--kernel-ms=1 (> 0)] [--reps=2000 (1..1e8)] [--trials=5 (1..1e4)] "
                 "[--cache=hot|cold]\n",
                 argv[0], argv[0]);
    return 2;
  }
  const double kernel_ms = *kernel_ms_flag;
  const int reps = int(*reps_flag), trials = int(*trials_flag);
  const attnbench::CacheMode cache = *cache_flag;
  const Trial empty = median_trial([] {}, reps, trials, cache);
  const long iterations = calibrate(kernel_ms * 1e-3);
  double sink = 0;
  const Trial kernel = median_trial([&] { sink += busy(iterations); }, reps, trials, cache);
  std::printf("harness overhead per repetition, outside the kernel call (median of %d trials of %d repetitions, "
              "cache %s; the stopping rule evaluated after every sample)\n",
              trials, reps, attnbench::to_string(cache));
  std::printf("  empty call:    loop %.0f ns, timer (an empty call's sample) %.0f ns\n", empty.loop_s * 1e9,
              empty.sample_s * 1e9);
  std::printf("  %.3g ms kernel: loop %.0f ns = %.4f%% of the median call (%.3f ms)\n", kernel.sample_s * 1e3,
              kernel.loop_s * 1e9, 100 * kernel.loop_s / kernel.sample_s, kernel.sample_s * 1e3);
  if (kernel_ms == 1)
    std::printf("  issue 6 target, < 1%% of a 1 ms kernel: %s\n", kernel.loop_s / kernel.sample_s < 0.01 ? "met" : "NOT met");
  return sink == 12345.678 ? 3 : 0;  // keeps the busy loop's result alive
}
