#pragma once
// Command-line parsing shared by the sub-commands: Boost.Program_options with its errors turned into
// UsageError messages that name the option and suggest the closest valid one.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace attnbench {

namespace po = boost::program_options;

/// Parse `args` (the words after the sub-command) against `options`; positional words are refused
/// unless `positional` names an option that takes them. Throws UsageError on any error.
po::variables_map parse_args(const std::string& command, const std::vector<std::string>& args,
                             const po::options_description& options, const char* positional = nullptr);

/// A whole number for `option` (e.g. "--heads"), in [min, max]; UsageError otherwise.
std::int64_t parse_int(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max);
/// A finite number for `option`, in [min, max]; UsageError otherwise.
double parse_double(const std::string& option, const std::string& text, double min, double max);
/// Split "a,b,c" (empty items are an error naming `option`).
std::vector<std::string> split_list(const std::string& option, const std::string& text);

/// "Did you mean" text for an unknown word among `candidates` ("" when nothing is close).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace attnbench
