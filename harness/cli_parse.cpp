#include "cli_parse.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "attnbench/edit_distance.hpp"
#include "exit_codes.hpp"

namespace attnbench {
namespace {

/// `x` as written by a person: 1e-09, 0.5, 86400 (std::to_string would print 0.000000 for 1e-9).
std::string shortest(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::vector<std::string> long_names(const po::options_description& options) {
  std::vector<std::string> names;
  for (const auto& opt : options.options()) names.push_back("--" + opt->long_name());
  return names;
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  return best.empty() ? "" : "did you mean '" + best + "'?";
}

po::variables_map parse_args(const std::string& command, const std::vector<std::string>& args,
                             const po::options_description& options, const char* positional) {
  const std::string help = " (see 'attnbench " + command + " --help')";
  po::variables_map vm;
  try {
    po::positional_options_description pos;
    if (positional) pos.add(positional, -1);
    po::store(po::command_line_parser(args).options(options).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    const std::string suggestion = did_you_mean(e.get_option_name(), long_names(options));
    throw UsageError("unknown option '" + e.get_option_name() + "' for '" + command + "'" +
                     (suggestion.empty() ? "" : "; " + suggestion) + help);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError("'" + command + "' takes no positional arguments; options start with '--'" + help);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + help);
  }
  return vm;
}

std::int64_t parse_int(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  const std::string range = "a whole number in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end)
    throw UsageError(option + ": expected " + range + ", got '" + text + "'");
  if (ec == std::errc::result_out_of_range || value < min || value > max)
    throw UsageError(option + ": " + text + " is out of range; expected " + range);
  return value;
}

double parse_double(const std::string& option, const std::string& text, double min, double max) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
    throw UsageError(option + ": expected a number, got '" + text + "'");
  if (value < min || value > max)
    throw UsageError(option + ": " + text + " is out of range; expected a number in [" + shortest(min) + ", " +
                     shortest(max) + "]");
  return value;
}

std::vector<std::string> split_list(const std::string& option, const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == ',') {
      if (i == start)
        throw UsageError(option + (text.empty() ? ": empty item: no value given; give one, or several separated by commas"
                                                : ": empty item in list '" + text + "'; remove the extra comma"));
      items.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  return items;
}

}  // namespace attnbench
