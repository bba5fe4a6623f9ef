#pragma once
// `attnbench project --validate FILE`: the performance model's prediction beside what the MPI
// kernels measured (their records in a results file), with the error and, where the model knows
// it is off (oversubscribed cores), why.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compute_rate.hpp"
#include "perf_model.hpp"

namespace attnbench {

struct ValidationOptions {
  NetworkModel network;
  int cores_per_node = 0;                ///< used when a record's provenance has no "cores"
  std::optional<ComputeRate> fallback;   ///< used when the file holds no single-rank record of the case
};

struct ValidationRow {
  std::string kernel;
  Strategy strategy = Strategy::tp;
  Problem problem;
  int ranks = 1, threads = 1, nodes = 1, cores_per_node = 0;
  double measured_s = 0;
  std::optional<double> measured_comm_s;  ///< the record's comm.seconds, when it has one
  /// Per phase: the record's slowest-rank seconds (comm.phases[].seconds.max_s) beside the model's.
  struct Phase {
    std::string phase;
    std::optional<double> measured_s;
    double predicted_s = 0;
  };
  std::vector<Phase> phases;
  Projection predicted;
  double error = 0;                       ///< (predicted - measured) / measured
  bool oversubscribed = false;            ///< ranks x threads on a node > its cores
  std::string rate_source;                ///< which single-rank record (or fallback) gave the rate
  std::string note;                       ///< why the model is expected to be off, or ""
};

/// One row per "ok" record of mha.tp.mpi, mha.ring.mpi or mha.ulysses.mpi. Each case's single-rank
/// rate comes from, in order: the same kernel's record of the same problem and threads at 1 rank
/// (work.flops / median), the blocked kernel's (mha.blocked.*) such record, options.fallback.
/// Ranks per node = ceil(ranks / provenance.nodes) (1 node when the record does not say); cores per
/// node = provenance.cores. Records that cannot be priced are left out with a line in *skipped.
std::vector<ValidationRow> validate_model(const std::vector<nlohmann::json>& records, const ValidationOptions& options,
                                          std::vector<std::string>* skipped);

/// The row as a JSON Lines record of kind "model_validation" (docs/RESULTS.md).
nlohmann::json to_json(const ValidationRow& row);

}  // namespace attnbench
