#pragma once
// The cases of a sweep: the axes (command line, --config FILE, --preset NAME from harness/inputs/)
// expanded into (problem, kernel, threads) cases in run order. Pure planning: nothing is allocated or
// measured here, so every malformed axis is reported before the first case runs.
//
// Axis grammar (each axis option takes a list, repeatable or comma-separated):
//   values   --heads 1,4,8,16
//   ranges   --seq 256:16384:*2 (geometric), --seq 128:1024:+128 (arithmetic); both ends included
//            when reached; start <= stop; the step must make progress
//   zips     --zip seq,batch pairs the i-th values of the named axes instead of crossing them
//            (equal lengths required), e.g. to keep batch x seq constant
// Every other axis is crossed (Cartesian product). Baseline kernels (cnn, rnn) get each problem's
// matched shape: same batch, sequence length and model width (heads x head_dim), without the
// attention-only fields; equal matched cases are run once.
#include <set>
#include <string>
#include <vector>

#include "attnbench/kernel.hpp"
#include "attnbench/problem.hpp"
#include "cli_parse.hpp"

namespace attnbench {

struct SweepCase {
  Problem problem;              ///< validated; for baselines, the matched shape
  const Kernel* kernel = nullptr;
  int threads = 1;              ///< the --threads axis value (the kernel may use fewer: effective_threads)
};

struct SweepGrid {
  std::vector<SweepCase> cases;       ///< in run order, no duplicates
  std::set<const Kernel*> named;      ///< kernels chosen by exact id (the rest came from globs/families)
  std::string preset;                 ///< the --preset name, "" without one
  std::vector<std::string> sources;   ///< config files read, in order (preset file first), for provenance
};

/// The axis options: --kernel, --batch, --heads, --kv-heads, --seq, --seq-kv, --head-dim, --value-dim,
/// --model-dim, --mask, --score, --projections, --kernel-size, --dilation, --layers, --bidirectional,
/// --threads, --zip, --problem, --preset, --config.
po::options_description sweep_axis_options();

/// Parses `args` against `options` (which must include sweep_axis_options()), then the --preset file
/// and the --config file in Boost.Program_options config syntax; the command line overrides a config
/// file, a config file overrides the preset. UsageError naming the file and line for a bad file.
po::variables_map parse_sweep_args(const std::vector<std::string>& args, const po::options_description& options);

/// The cases the parsed axes describe. UsageError naming the axis for every malformed or
/// contradictory value (an empty range, a zip of unequal lengths, an unknown kernel, ...).
SweepGrid sweep_grid_from(const po::variables_map& vm);

/// The named presets: harness/inputs/<name>.cfg, compiled into the program at build time so that it
/// works from any directory. `preset_text` throws UsageError listing the names for an unknown one.
std::vector<std::string> preset_names();
std::string preset_text(const std::string& name);

}  // namespace attnbench
