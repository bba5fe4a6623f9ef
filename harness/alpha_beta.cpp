#include "alpha_beta.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

namespace attnbench {

double AlphaBeta::gbytes_per_s() const {
  return beta_s_per_byte > 0 ? 1e-9 / beta_s_per_byte : std::numeric_limits<double>::infinity();
}

namespace {

void fill_residuals(std::span<const SizeTime> points, AlphaBetaFit& fit) {
  double sum_sq = 0, worst = 0;
  for (const SizeTime& p : points) {
    const double r = (fit.model.seconds(p.bytes) - p.seconds) / p.seconds;
    sum_sq += r * r;
    worst = std::max(worst, std::fabs(r));
  }
  fit.rel_rms_residual = std::sqrt(sum_sq / double(points.size()));
  fit.max_rel_residual = worst;
  fit.points = int(points.size());
}

}  // namespace

AlphaBetaFit fit_alpha_beta(std::span<const SizeTime> points) {
  if (points.size() < 2)
    throw std::invalid_argument("alpha-beta fit: needs at least 2 points (got " + std::to_string(points.size()) + ")");
  std::set<double> sizes;
  for (const SizeTime& p : points) {
    if (!(std::isfinite(p.bytes) && p.bytes >= 0))
      throw std::invalid_argument("alpha-beta fit: message sizes must be finite and >= 0 (got " +
                                  std::to_string(p.bytes) + ")");
    if (!(std::isfinite(p.seconds) && p.seconds > 0))
      throw std::invalid_argument("alpha-beta fit: times must be finite and > 0 (got " + std::to_string(p.seconds) +
                                  " s at " + std::to_string(p.bytes) + " bytes)");
    sizes.insert(p.bytes);
  }
  if (sizes.size() < 2) throw std::invalid_argument("alpha-beta fit: needs at least 2 distinct message sizes");

  // Dividing each equation alpha + n_i beta = t_i by t_i gives the ordinary least-squares problem
  // u_i alpha + v_i beta = 1 with u_i = 1 / t_i, v_i = n_i / t_i. The columns are scaled to a
  // largest entry of 1 before forming the normal equations, which keeps them well conditioned
  // across 8 decades of sizes.
  double u_max = 0, v_max = 0;
  for (const SizeTime& p : points) {
    u_max = std::max(u_max, 1 / p.seconds);
    v_max = std::max(v_max, p.bytes / p.seconds);
  }
  double suu = 0, suv = 0, svv = 0, su = 0, sv = 0;
  for (const SizeTime& p : points) {
    const double u = 1 / p.seconds / u_max, v = p.bytes / p.seconds / v_max;
    suu += u * u, suv += u * v, svv += v * v, su += u, sv += v;
  }
  AlphaBetaFit fit;
  const double det = suu * svv - suv * suv;
  double a = det > 0 ? (svv * su - suv * sv) / det : -1;
  double b = det > 0 ? (suu * sv - suv * su) / det : -1;
  if (a < 0 || b < 0) {
    // The one-parameter fits; keep whichever has the smaller residual.
    const double a_only = su / suu, b_only = svv > 0 ? sv / svv : 0;
    AlphaBetaFit fa, fb;
    fa.model = {a_only / u_max, 0};
    fb.model = {0, b_only / v_max};
    fill_residuals(points, fa);
    fill_residuals(points, fb);
    return fa.rel_rms_residual <= fb.rel_rms_residual ? fa : fb;
  }
  fit.model = {a / u_max, b / v_max};
  fill_residuals(points, fit);
  return fit;
}

nlohmann::json to_json(const AlphaBetaFit& fit) {
  const double bw = fit.model.gbytes_per_s();
  return {{"alpha_s", fit.model.alpha_s},
          {"beta_s_per_byte", fit.model.beta_s_per_byte},
          {"bandwidth_gbytes_per_s", std::isfinite(bw) ? nlohmann::json(bw) : nlohmann::json(nullptr)},
          {"rel_rms_residual", fit.rel_rms_residual},
          {"max_rel_residual", fit.max_rel_residual},
          {"points", fit.points}};
}

AlphaBetaFit alpha_beta_fit_from_json(const nlohmann::json& j, const std::string& where) {
  auto number = [&](const char* key) {
    if (!j.is_object() || !j.contains(key)) throw std::invalid_argument(where + key + " is missing");
    const nlohmann::json& v = j.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
      throw std::invalid_argument(where + key + " must be a finite number >= 0");
    return v.get<double>();
  };
  AlphaBetaFit fit;
  fit.model.alpha_s = number("alpha_s");
  fit.model.beta_s_per_byte = number("beta_s_per_byte");
  fit.rel_rms_residual = number("rel_rms_residual");
  fit.max_rel_residual = number("max_rel_residual");
  fit.points = int(number("points"));
  return fit;
}

}  // namespace attnbench
