#include "cli_measure.hpp"

#include <cstdint>
#include <string>

#include "exit_codes.hpp"

namespace attnbench {

po::options_description measurement_options() {
  po::options_description m("Measurement");
  m.add_options()
      ("warmup", po::value<std::string>()->default_value("1"), "untimed runs before measuring (at least 50 ms)")
      ("min-reps", po::value<std::string>()->default_value("6"), "minimum timed repetitions (6 is the fewest for which the median has a 95% interval)")
      ("max-reps", po::value<std::string>()->default_value("10000"), "maximum timed repetitions")
      ("min-time", po::value<std::string>()->default_value("0.1"), "keep repeating until this many seconds are timed")
      ("max-time", po::value<std::string>()->default_value("10"), "the per-case budget: stop repeating after this many "
                                                                  "seconds even if --ci-target is not met (the record says so)")
      ("ci-target", po::value<std::string>()->default_value("0.02"), "repeat until the 95% confidence interval of the "
                                                                     "median is within +- this fraction of it (0: no target)")
      ("cache", po::value<std::string>()->default_value("hot"), "hot: repetitions back to back; cold: flush the caches "
                                                                "before each repetition, outside the timed region");
  return m;
}

po::options_description placement_options() {
  po::options_description m("Placement");
  m.add_options()
      ("pin", po::value<std::string>()->default_value("none"), "thread placement within the allowed CPUs (ranks on one "
                                                               "host get disjoint shares): none (the OS decides), compact "
                                                               "(thread i on the i-th CPU, siblings of a core together), "
                                                               "spread (threads evenly strided over the CPUs)")
      ("interleave", po::bool_switch(), "time one problem's kernels in rounds, a random order each round, so that "
                                        "slow drift does not favour one")
      ("interleave-seed", po::value<std::string>(), "seed of the rounds' orders (default 1; recorded)");
  return m;
}

MeasureOptions measure_options_from(const po::variables_map& vm) {
  MeasureOptions m;
  m.warmup_runs = int(parse_int("--warmup", vm["warmup"].as<std::string>(), 0, 1000000));
  m.min_reps = int(parse_int("--min-reps", vm["min-reps"].as<std::string>(), 1, 1000000));
  m.max_reps = int(parse_int("--max-reps", vm["max-reps"].as<std::string>(), 1, 1000000));
  m.min_seconds = parse_double("--min-time", vm["min-time"].as<std::string>(), 0, 86400);
  m.max_seconds = parse_double("--max-time", vm["max-time"].as<std::string>(), 0, 86400);
  m.ci_target = parse_double("--ci-target", vm["ci-target"].as<std::string>(), 0, 0.5);
  const std::string cache = vm["cache"].as<std::string>();
  try {
    m.cache = parse_cache_mode(cache);
  } catch (const std::invalid_argument&) {
    throw UsageError("--cache: '" + cache + "' is not a cache mode (valid: hot|cold)");
  }
  if (m.max_reps < m.min_reps)
    throw UsageError("--max-reps (" + std::to_string(m.max_reps) + ") is below --min-reps (" +
                     std::to_string(m.min_reps) + ")");
  if (!(m.max_seconds > 0)) throw UsageError("--max-time must be above 0 seconds (got " + vm["max-time"].as<std::string>() + ")");
  if (m.max_seconds < m.min_seconds)
    throw UsageError("--max-time (" + vm["max-time"].as<std::string>() + " s) is below --min-time (" +
                     vm["min-time"].as<std::string>() + " s)");
  validate(m);  // anything else it rejects is a bug in the lines above, not bad input
  return m;
}

PinMode pin_mode_from(const po::variables_map& vm) {
  const std::string text = vm.count("pin") ? vm["pin"].as<std::string>() : "none";
  try {
    return parse_pin_mode(text);
  } catch (const std::invalid_argument&) {
    throw UsageError("--pin: '" + text + "' is not a placement (valid: none|compact|spread)");
  }
}

std::optional<std::uint64_t> interleave_seed_from(const po::variables_map& vm) {
  const bool interleave = vm.count("interleave") && vm["interleave"].as<bool>();
  if (!vm.count("interleave-seed")) return interleave ? std::optional<std::uint64_t>(1) : std::nullopt;
  if (!interleave) throw UsageError("--interleave-seed without --interleave: add --interleave");
  return std::uint64_t(parse_int("--interleave-seed", vm["interleave-seed"].as<std::string>(), 0, INT64_MAX));
}

}  // namespace attnbench
