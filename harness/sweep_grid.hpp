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
//            (equal lengths required), e.g. to keep batch x seq constant; --zip none: no zips
//   words    --mask none,causal; --projections / --bidirectional on|off|both; --layers 1,cover
// Every other axis is crossed (Cartesian product), in the order of the options below (problem, batch,
// model-dim, heads, kv-heads, head-dim, value-dim, seq, seq-kv, mask, score, projections, kernel-size,
// dilation, layers, bidirectional, threads, ranks), the first outermost; sweep_axes.hpp has the grammar.
// Unset axes take run's defaults: batch 1, kv-heads = heads, seq-kv = seq (tied: it follows every seq),
// value-dim = head-dim, mask none, score scaled_dot, projections off, threads = all logical CPUs
// (fit_to_launch shares them among the ranks of a host), ranks = every rank of the launch.
//
// Attention kernels get each point's attention problem, with the baseline fields at their defaults.
// Baseline kernels (cnn, rnn) get its matched shape (matched_problem): same batch, sequence length and
// model width (heads x head_dim, split as --model-dim alone splits it: heads of 64 when 64 divides it),
// the attention-only fields reset (kv-heads, seq-kv, value-dim, score, a padding mask, projections,
// which a baseline layer always has), a causal mask kept for conv1d (causal padding; an RNN is causal
// by construction, so its causal case is its plain one), and the baseline axes that mean something for
// the operator applied (conv1d: kernel-size, dilation, layers; RNNs: bidirectional). Cases equal in
// (problem, kernel, threads the kernel really uses) are kept once, at their first place: a baseline
// runs once per width however the heads split it, a serial kernel once over --threads 1,2, a kernel
// that is not an mpi kernel once over --ranks 1,2 (it runs on rank 0 alone).
// Run order: problems outer, kernels inner (the kernels of one problem run side by side), the threads
// and ranks values innermost.
//
// A point whose values break a descriptor rule (e.g. --kv-heads 3 with --heads 4, or --layers cover
// with --kernel-size 1) is left out and reported once per reason in SweepGrid::excluded, with how
// many points it removed; a grid with no valid point is a UsageError. A case a kernel does not
// support (supports_run) is not left out here: the sweep records it as skipped with the reason.
#include <cstdint>
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
  int ranks = 0;                ///< an mpi kernel's --ranks axis value: it runs on the first `ranks` ranks of
                                ///< the launch; 0: on all of them (no --ranks axis, or not an mpi kernel)
};

struct SweepGrid {
  std::vector<SweepCase> cases;       ///< in run order, no duplicates
  std::set<const Kernel*> named;      ///< kernels chosen by exact id (the rest came from globs/families)
  std::string preset;                 ///< the --preset name, "" without one
  std::vector<std::string> sources;   ///< config files read, in order (preset file first), for provenance
  std::vector<std::string> excluded;  ///< one line per reason a grid point was left out, with the count
  bool default_threads = false;       ///< no --threads axis: cases carry all logical CPUs, shared among
                                      ///< the ranks of a host by fit_to_launch (as run does)
};

/// The values of the baseline-only axes at one grid point.
struct BaselineFields {
  std::int64_t kernel_size = 3;
  std::int64_t dilation = 1;
  std::int64_t layers = 1;
  bool cover = false;  ///< --layers cover: the fewest conv layers whose receptive field covers seq
  bool bidirectional = false;
};

/// Conv layers (dilation doubling per layer) whose receptive field 1 + (k-1) * dilation * (2^layers - 1)
/// first reaches `seq`; 0 when no stack of at most kMaxConvLayers does (e.g. kernel_size 1).
std::int64_t covering_layers(std::int64_t seq, std::int64_t kernel_size, std::int64_t dilation);

/// The problem a kernel of operator `op` runs at a grid point whose attention problem is `attention`:
/// `attention` itself for mha; for a baseline the matched shape described above. UsageError naming the
/// option when the baseline fields cannot be met (no covering stack, a broken descriptor rule).
Problem matched_problem(Op op, const Problem& attention, const BaselineFields& fields);

/// The axis options: --kernel, --batch, --heads, --kv-heads, --seq, --seq-kv, --head-dim, --value-dim,
/// --model-dim, --mask, --score, --projections, --kernel-size, --dilation, --layers, --bidirectional,
/// --threads, --ranks, --zip, --problem, --preset, --config.
po::options_description sweep_axis_options();

/// Parses `args` against `options` (which must include sweep_axis_options()), then the --config file
/// and the --preset file in Boost.Program_options config syntax (keys: the option names); the command
/// line overrides a config file, a config file overrides the preset. A source's key replaces a lower
/// source's same key (lists are not merged across sources) and its alternatives: --problem and the
/// shape axes replace each other, --model-dim replaces --heads/--head-dim, both of those --model-dim.
/// UsageError naming the file and line for an unknown key, a malformed line or a bad axis value.
po::variables_map parse_sweep_args(const std::vector<std::string>& args, const po::options_description& options);

/// The cases the parsed axes describe. UsageError naming the axis for every malformed or
/// contradictory value (an empty range, a zip of unequal lengths, an unknown kernel, ...).
SweepGrid sweep_grid_from(const po::variables_map& vm);

/// The grid as this launch runs it: without a --threads axis each case gets the host's logical CPUs
/// divided by `ranks_on_host` (at least 1); a case whose --ranks is above `launch_ranks` is left out
/// and counted in `excluded` with the reason (UsageError when nothing is left).
void fit_to_launch(SweepGrid& grid, int launch_ranks, int ranks_on_host);

/// The groups of cases a sweep runs together: without `interleave` every case alone; with it, the
/// cases measured side by side (--interleave): one problem's kernels at one thread count (and one
/// --ranks value; the kernels on rank 0 alone form their own group then), as `run --interleave`
/// compares them. Groups in order of their first case, each in grid order.
std::vector<std::vector<std::size_t>> sweep_groups(const SweepGrid& grid, bool interleave);

/// The named presets: harness/inputs/<name>.cfg, compiled into the program at build time so that it
/// works from any directory. `preset_text` throws UsageError listing the names for an unknown one.
std::vector<std::string> preset_names();
std::string preset_text(const std::string& name);

}  // namespace attnbench
