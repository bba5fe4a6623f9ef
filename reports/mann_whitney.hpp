#pragma once
// The Mann-Whitney U test and the distribution-free confidence interval for a shift that goes with it
// (Hodges-Lehmann / Moses): the statistics `attnbench compare` gives per case.
#include <cstddef>
#include <optional>
#include <vector>

namespace attnbench::reports {

/// Two-sided Mann-Whitney U test of samples `x` against `y`, computed as scipy.stats.mannwhitneyu(x, y,
/// alternative="two-sided", method="auto") does (and so as Google Benchmark's compare.py reports it):
/// - U1 = R1 - n1(n1+1)/2 with R1 the sum of x's ranks among all samples (average ranks for ties);
/// - exact when either sample has at most 8 values and there are no ties: p = 2 P(U >= max(U1, U2))
///   under the exact null distribution (every ordering of the n1 + n2 values equally likely), capped at 1;
/// - otherwise the normal approximation with tie correction and continuity correction:
///   z = (max(U1, U2) - n1 n2 / 2 - 1/2) / sqrt(n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1)))),
///   t the sizes of the tie groups, p = 2 (1 - Phi(z)) capped at 1 (1 when every value is tied).
struct MannWhitneyResult {
  double u1 = 0;       ///< U statistic of x: the number of pairs (x_i, y_j) with x_i > y_j, ties counting 1/2
  double p_value = 1;  ///< two-sided
  bool exact = false;  ///< whether the exact distribution was used
};
/// Throws std::invalid_argument when a sample is empty or holds a NaN.
MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y);

/// The smallest two-sided p-value any data can give with n1 and n2 samples under the exact test: the
/// two samples completely apart, p = 2 / C(n1 + n2, n1). When it exceeds alpha, no difference can ever
/// be called significant: e.g. 3 and 3 samples give at least 0.1.
double smallest_p_value(std::size_t n1, std::size_t n2);

/// Exact null distribution of U for sample sizes m and n: entry u is P(U = u), u = 0..m n. Counts are
/// the coefficients of the Gaussian binomial [m+n choose m]_q, computed exactly in 128-bit integers.
/// Nothing when C(m + n, m) is too large for that (about 1e36; the normal approximation is then
/// excellent anyway).
std::optional<std::vector<double>> exact_u_distribution(std::size_t m, std::size_t n);

/// A distribution-free confidence interval for the shift d in y = x + d (Hodges-Lehmann estimator with
/// the Moses interval): the n1 n2 differences y_j - x_i sorted, the interval is [D(k), D(N + 1 - k)] with
/// k the largest rank such that P(U <= k - 1) <= alpha / 2, from the exact distribution of U when either
/// sample has at most 8 values, else from the normal approximation
/// k = floor(n1 n2 / 2 - z(1 - alpha/2) sqrt(n1 n2 (n1 + n2 + 1) / 12)). It is the set of shifts the
/// two-sided U test at level alpha does not reject, so it excludes 0 exactly when the test rejects
/// (up to the test's tie handling). When even k = 1 falls short of 1 - alpha (tiny samples), the
/// interval is the whole range of differences and `confidence` says what it covers. Beyond 10^7 pairs
/// each sample is first thinned to 3000 evenly spaced order statistics, which keeps memory bounded and
/// only widens the interval (it is computed as if from 3000 samples).
struct ShiftInterval {
  double estimate = 0;    ///< Hodges-Lehmann: the median of the differences
  double low = 0, high = 0;
  double confidence = 0;  ///< the coverage achieved, >= 1 - alpha except for tiny samples
};
/// Throws std::invalid_argument when a sample is empty or alpha is not in (0, 1).
ShiftInterval shift_interval(const std::vector<double>& x, const std::vector<double>& y, double alpha);

/// The standard normal quantile: Phi^-1(p) for p in (0, 1).
double normal_quantile(double p);

}  // namespace attnbench::reports
