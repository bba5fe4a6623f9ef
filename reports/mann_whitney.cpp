// Mann-Whitney U and the Hodges-Lehmann/Moses shift interval (mann_whitney.hpp).
#include "mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace attnbench::reports {
namespace {

void require_sample(const std::vector<double>& s, const char* name) {
  if (s.empty()) throw std::invalid_argument(std::string("Mann-Whitney U: sample ") + name + " is empty");
  for (double v : s)
    if (std::isnan(v)) throw std::invalid_argument(std::string("Mann-Whitney U: sample ") + name + " holds a NaN");
}

// scipy's choice of method="auto": exact for a small sample without ties.
bool use_exact(std::size_t n1, std::size_t n2) { return std::min(n1, n2) <= 8; }

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// log C(n, k)
double log_choose(double n, double k) { return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1); }

// P(U <= k) from a probability mass function (0 for k < 0).
double cdf(const std::vector<double>& pmf, long long k) {
  if (k < 0) return 0;
  const std::size_t end = std::min<std::size_t>(std::size_t(k) + 1, pmf.size());
  return std::accumulate(pmf.begin(), pmf.begin() + std::ptrdiff_t(end), 0.0);
}

// Beyond this many pairwise differences (80 MB), each sample is thinned to kThinnedSample quantiles.
constexpr std::size_t kMaxShiftPairs = 10'000'000;
constexpr std::size_t kThinnedSample = 3000;

}  // namespace

std::optional<std::vector<double>> exact_u_distribution(std::size_t m, std::size_t n) {
  if (m > n) std::swap(m, n);
  // The largest coefficient is below C(m + n, m); intermediate ones (after a multiplication, before the
  // division) stay within twice that. 1e36 leaves room under 2^127 = 1.7e38.
  if (log_choose(double(m + n), double(m)) > std::log(1e36)) return std::nullopt;
  // [n + i choose i]_q = [n + i - 1 choose i - 1]_q * (1 - q^(n + i)) / (1 - q^i), starting from 1.
  const std::size_t degree = m * n;
  std::vector<__int128> c(degree + 1, 0);
  c[0] = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    for (std::size_t u = degree; u >= n + i && u <= degree; --u) c[u] -= c[u - (n + i)];  // * (1 - q^(n+i))
    for (std::size_t u = i; u <= degree; ++u) c[u] += c[u - i];                           // / (1 - q^i)
  }
  const long double total = std::accumulate(c.begin(), c.end(), static_cast<long double>(0),
                                            [](long double s, __int128 v) { return s + static_cast<long double>(v); });
  std::vector<double> pmf(degree + 1);
  for (std::size_t u = 0; u <= degree; ++u) pmf[u] = double(static_cast<long double>(c[u]) / total);
  return pmf;
}

double smallest_p_value(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  return std::min(1.0, 2.0 * std::exp(-log_choose(double(n1 + n2), double(n1))));
}

MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y) {
  require_sample(x, "x");
  require_sample(y, "y");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  // Pool, sort, and give each tie group the average of the ranks it spans.
  std::vector<std::pair<double, bool>> all;  // (value, from x)
  all.reserve(n);
  for (double v : x) all.emplace_back(v, true);
  for (double v : y) all.emplace_back(v, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double t = double(j - i), average_rank = (double(i + 1) + double(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second) rank_sum_x += average_rank;
    tie_term += t * t * t - t;
    ties |= j - i > 1;
    i = j;
  }
  MannWhitneyResult r;
  r.u1 = rank_sum_x - double(n1) * double(n1 + 1) / 2;
  const double big_u = std::max(r.u1, double(n1) * double(n2) - r.u1);
  if (use_exact(n1, n2) && !ties) {
    if (const auto pmf = exact_u_distribution(n1, n2)) {
      // P(U >= big_u) = P(U <= n1 n2 - big_u) by symmetry.
      r.exact = true;
      r.p_value = std::min(1.0, 2.0 * cdf(*pmf, std::llround(double(n1) * double(n2) - big_u)));
      return r;
    }
  }
  const double nd = double(n);
  const double variance = double(n1) * double(n2) / 12.0 * ((nd + 1) - tie_term / (nd * (nd - 1)));
  if (!(variance > 0)) return r;  // every value tied: no evidence of a difference, p = 1
  const double z = (big_u - double(n1) * double(n2) / 2 - 0.5) / std::sqrt(variance);
  r.p_value = std::min(1.0, 2.0 * normal_sf(z));
  return r;
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("normal_quantile: p must be in (0, 1)");
  // Bisection on the survival function: 200 halvings of [-40, 40] reach double precision.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (1 - normal_sf(mid) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// At most `keep` evenly spaced order statistics of `s` (all of it when smaller).
static std::vector<double> thinned(std::vector<double> s, std::size_t keep) {
  if (s.size() <= keep) return s;
  std::sort(s.begin(), s.end());
  std::vector<double> t(keep);
  for (std::size_t i = 0; i < keep; ++i) t[i] = s[(2 * i + 1) * s.size() / (2 * keep)];
  return t;
}

ShiftInterval shift_interval(const std::vector<double>& x_in, const std::vector<double>& y_in, double alpha) {
  require_sample(x_in, "x");
  require_sample(y_in, "y");
  if (!(alpha > 0 && alpha < 1)) throw std::invalid_argument("shift_interval: alpha must be in (0, 1)");
  const bool too_many = x_in.size() * y_in.size() > kMaxShiftPairs;
  const std::vector<double> x = too_many ? thinned(x_in, kThinnedSample) : x_in;
  const std::vector<double> y = too_many ? thinned(y_in, kThinnedSample) : y_in;
  const std::size_t n1 = x.size(), n2 = y.size(), pairs = n1 * n2;
  std::vector<double> d;
  d.reserve(pairs);
  for (double b : x)
    for (double a : y) d.push_back(a - b);
  std::sort(d.begin(), d.end());
  ShiftInterval s;
  s.estimate = pairs % 2 ? d[pairs / 2] : (d[pairs / 2 - 1] + d[pairs / 2]) / 2;
  // k: the largest rank with P(U <= k - 1) <= alpha / 2 (at least 1).
  std::size_t k = 1;
  double tail = 0;  // P(U <= k - 1) for the chosen k
  const auto pmf = use_exact(n1, n2) ? exact_u_distribution(n1, n2) : std::nullopt;
  if (pmf) {
    tail = (*pmf)[0];
    for (std::size_t next = 2; next <= pairs / 2; ++next) {
      const double t = tail + (*pmf)[next - 1];
      if (t > alpha / 2) break;
      k = next, tail = t;
    }
  } else {
    const double sd = std::sqrt(double(n1) * double(n2) * double(n1 + n2 + 1) / 12);
    const double c = std::floor(double(pairs) / 2 - normal_quantile(1 - alpha / 2) * sd);
    k = std::size_t(std::max(1.0, c));
    tail = 1 - normal_sf((double(k) - 0.5 - double(pairs) / 2) / sd);  // P(U <= k - 1), continuity-corrected
  }
  s.low = d[k - 1];
  s.high = d[pairs - k];
  s.confidence = std::max(0.0, 1 - 2 * tail);
  return s;
}

}  // namespace attnbench::reports
