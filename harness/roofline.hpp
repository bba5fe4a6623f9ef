#pragma once
// "% of peak" of a measured case against the machine profile's roofline: the case's arithmetic
// intensity I = flops / compulsory bytes (the cost model's work.flops / work.bytes) decides which
// roof applies. Below the ridge point I* = FMA peak / triad bandwidth the case is memory-bound and
// is compared with the triad (attainable = I x triad); at or above it, with the FMA peak.
// pct_peak = achieved GFLOP/s / attainable GFLOP/s x 100, which for a memory-bound case equals
// achieved GB/s / triad GB/s x 100.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "machine_peak.hpp"

namespace attnbench {

struct Roofline {
  int threads = 0;                 ///< per rank; the profile entry used
  int ranks = 1;                   ///< roofs are per rank x ranks (each rank has its own cores)
  double peak_gflops = 0;          ///< FMA-loop peak x ranks
  double triad_gbytes_per_s = 0;   ///< triad x ranks
  double intensity = 0;            ///< flops per compulsory byte
  double ridge = 0;                ///< peak / triad, flops per byte
  bool memory_bound = false;       ///< intensity < ridge
  double attainable_gflops = 0;    ///< min(peak, intensity x triad)
  double pct_peak = 0;             ///< achieved / attainable x 100
};

/// The roofline of a case that achieved `gflops` and `gbytes_per_s` (rates of the same median time)
/// with `threads` threads on each of `ranks` ranks, or nullopt when the profile has no entry for
/// `threads` (calibrate --threads T adds one) or a rate is not positive.
std::optional<Roofline> roofline(const MachinePeak& peak, int threads, int ranks, double gflops, double gbytes_per_s);

/// The peaks `attnbench run` rates its cases against, and a note for the user ("" when none).
struct RunMachine {
  std::optional<MachinePeak> peak;
  std::string note;
};

/// Loads the machine profile for `run`: `explicit_path` (--machine) if given, else the default
/// location (default_machine_profile_path) if a file is there. A profile measured on another CPU
/// model is not used (the note says so). Throws UsageError for an explicit path that cannot be read
/// or is not a valid profile, or whose CPU differs; a bad default-location profile only gives a note.
RunMachine machine_for_run(const std::string* explicit_path);

/// {"bound": "compute"|"memory", "arithmetic_intensity", "ridge_flops_per_byte", "attainable_gflops",
///  "peak_gflops", "triad_gbytes_per_s", "threads", "ranks"}
nlohmann::json to_json(const Roofline& r);

}  // namespace attnbench
