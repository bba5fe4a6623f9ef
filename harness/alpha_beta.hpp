#pragma once
// The alpha-beta (latency-bandwidth, Hockney) cost of moving a message: t(n) = alpha + n * beta,
// and its least-squares fit to measured (size, time) points.
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace attnbench {

/// The cost of one message of n bytes: alpha seconds of latency plus beta seconds per byte.
struct AlphaBeta {
  double alpha_s = 0;          ///< latency, seconds
  double beta_s_per_byte = 0;  ///< inverse bandwidth, seconds per byte

  double seconds(double bytes) const { return alpha_s + bytes * beta_s_per_byte; }
  /// 1 / beta in GB/s (10^9 bytes per second); +infinity when beta is 0.
  double gbytes_per_s() const;
};

/// One measured point: a message (or collective buffer) of `bytes`, taking `seconds` (a median).
struct SizeTime {
  double bytes = 0;
  double seconds = 0;
};

/// The fit and how well it describes the points.
struct AlphaBetaFit {
  AlphaBeta model;
  double rel_rms_residual = 0;  ///< sqrt(mean(((fit - measured) / measured)^2))
  double max_rel_residual = 0;  ///< max |fit - measured| / measured
  int points = 0;
};

/// Fits t = alpha + n * beta by least squares on RELATIVE residuals, i.e. it minimises
/// sum(((alpha + n_i beta - t_i) / t_i)^2). Plain least squares over sizes from 1 B to 64 MiB
/// would be decided by the largest messages alone (their times are 10^4 x larger) and leave alpha
/// meaningless, often negative; relative residuals weigh every size alike, so alpha comes from the
/// small messages and beta from the large ones. Both are constrained to be >= 0 (if the free fit
/// makes one negative it is set to 0 and the other refitted alone).
/// Throws std::invalid_argument when fewer than 2 points, fewer than 2 distinct sizes, a size is
/// negative or not finite, or a time is not finite and > 0.
AlphaBetaFit fit_alpha_beta(std::span<const SizeTime> points);

/// {"alpha_s", "beta_s_per_byte", "bandwidth_gbytes_per_s", "rel_rms_residual", "max_rel_residual",
///  "points"}.
nlohmann::json to_json(const AlphaBetaFit& fit);
/// Reads what to_json writes (bandwidth_gbytes_per_s is derived, not read). Throws
/// std::invalid_argument naming the key (prefixed with `where`) that is missing, of the wrong type,
/// negative or not finite.
AlphaBetaFit alpha_beta_fit_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace attnbench
