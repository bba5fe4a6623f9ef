#include "cli_measure.hpp"

#include <string>

#include "exit_codes.hpp"

namespace attnbench {

po::options_description measurement_options() {
  po::options_description m("Measurement");
  m.add_options()
      ("warmup", po::value<std::string>()->default_value("1"), "untimed runs before measuring (at least 50 ms)")
      ("min-reps", po::value<std::string>()->default_value("6"), "minimum timed repetitions (6 is the fewest for which the median has a 95% interval)")
      ("max-reps", po::value<std::string>()->default_value("1000"), "maximum timed repetitions")
      ("min-time", po::value<std::string>()->default_value("0.5"), "keep repeating until this many seconds are timed")
      ("max-time", po::value<std::string>()->default_value("30"), "stop repeating after this many seconds");
  return m;
}

MeasureOptions measure_options_from(const po::variables_map& vm) {
  MeasureOptions m;
  m.warmup_runs = int(parse_int("--warmup", vm["warmup"].as<std::string>(), 0, 1000000));
  m.min_reps = int(parse_int("--min-reps", vm["min-reps"].as<std::string>(), 1, 1000000));
  m.max_reps = int(parse_int("--max-reps", vm["max-reps"].as<std::string>(), 1, 1000000));
  m.min_seconds = parse_double("--min-time", vm["min-time"].as<std::string>(), 0, 86400);
  m.max_seconds = parse_double("--max-time", vm["max-time"].as<std::string>(), 0, 86400);
  if (m.max_reps < m.min_reps)
    throw UsageError("--max-reps (" + std::to_string(m.max_reps) + ") is below --min-reps (" +
                     std::to_string(m.min_reps) + ")");
  if (m.max_seconds < m.min_seconds)
    throw UsageError("--max-time (" + vm["max-time"].as<std::string>() + " s) is below --min-time (" +
                     vm["min-time"].as<std::string>() + " s)");
  validate(m);  // anything else it rejects is a bug in the lines above, not bad input
  return m;
}

}  // namespace attnbench
