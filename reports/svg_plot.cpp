#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "report_text.hpp"

namespace attnbench::report {

namespace {

// Colour-blind-safe (Okabe-Ito first); markers cycle after the colours so 40 series stay distinct.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                    "#56B4E9", "#000000", "#8C564B", "#7F7F7F", "#BCBD22"};
constexpr int kPaletteSize = 10;

// Layout in viewBox units (the SVG scales to its container).
constexpr double kWidth = 720, kLeft = 82, kRight = 18, kTop = 40, kPlotHeight = 300, kAxisBelow = 52;
constexpr double kLegendRow = 22, kFont = 15;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  char buf[32];
  if (a >= 1e5 || a < 1e-3) {
    const int e = int(std::floor(std::log10(a) + 1e-9));
    const double m = v / std::pow(10.0, e);
    if (std::fabs(m - std::round(m)) < 1e-6)
      std::snprintf(buf, sizeof buf, "%de%d", int(std::round(m)), e);
    else
      std::snprintf(buf, sizeof buf, "%.2ge%d", m, e);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Axis {
  bool log = false;
  double lo = 0, hi = 1;  // in axis units (log10 of the value on a log axis)
  double unit(double v) const { return log ? std::log10(v) : v; }
  double frac(double v) const { return (unit(v) - lo) / (hi - lo); }
};

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

Axis make_axis(const std::vector<double>& values, bool log, bool from_zero) {
  Axis a;
  a.log = log;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (double v : values) lo = std::min(lo, a.unit(v)), hi = std::max(hi, a.unit(v));
  if (!log && from_zero) lo = std::min(lo, 0.0);
  if (hi - lo < 1e-12) {
    const double pad = log ? 0.3 : (std::fabs(hi) > 0 ? std::fabs(hi) * 0.1 : 1.0);
    lo -= pad, hi += pad;
  }
  const double pad = 0.05 * (hi - lo);
  a.lo = (!log && from_zero && lo >= 0) ? lo : lo - pad;
  a.hi = hi + pad;
  return a;
}

std::vector<double> ticks(const Axis& a, const std::set<double>& data_values) {
  std::vector<double> t;
  if (a.log && !data_values.empty() && data_values.size() <= 10) return {data_values.begin(), data_values.end()};
  if (a.log) {
    const double span = a.hi - a.lo;
    const int step = span > 8 ? 2 : 1;
    const std::vector<double> mult = span <= 2.5 ? std::vector<double>{1, 2, 5} : std::vector<double>{1};
    for (int e = int(std::floor(a.lo)); e <= int(std::ceil(a.hi)); e += step)
      for (double m : mult) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= a.lo && std::log10(v) <= a.hi) t.push_back(v);
      }
    return t;
  }
  const double raw = (a.hi - a.lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  // Whole-number data (threads, ranks) gets whole-number ticks: no "1.5 threads".
  const bool whole = !data_values.empty() &&
                     std::all_of(data_values.begin(), data_values.end(), [](double v) { return v == std::floor(v); });
  if (whole) step = std::max(step, 1.0);
  // NOLINTNEXTLINE(cert-flp30-c): about ten steps of a 1/2/5 x 10^k step; the end test has a tolerance
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + 1e-9 * step; v += step)
    t.push_back(std::fabs(v) < 1e-12 * step ? 0.0 : v);
  return t;
}

void marker(std::ostringstream& out, int shape, double x, double y, const char* color) {
  switch (shape) {
    case 0: out << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"3.5\" fill=\"" << color << "\"/>"; break;
    case 1: out << "<rect x=\"" << num(x - 3.5) << "\" y=\"" << num(y - 3.5) << "\" width=\"7\" height=\"7\" fill=\"" << color << "\"/>"; break;
    case 2:
      out << "<path d=\"M" << num(x) << ' ' << num(y - 4.5) << " L" << num(x + 4) << ' ' << num(y + 3) << " L" << num(x - 4) << ' '
          << num(y + 3) << " Z\" fill=\"" << color << "\"/>";
      break;
    default:
      out << "<path d=\"M" << num(x) << ' ' << num(y - 4.5) << " L" << num(x + 4.5) << ' ' << num(y) << " L" << num(x) << ' '
          << num(y + 4.5) << " L" << num(x - 4.5) << ' ' << num(y) << " Z\" fill=\"" << color << "\"/>";
  }
}

}  // namespace

bool drawable(const PlotSpec& spec) {
  for (const PlotSeries& s : spec.series)
    if (!s.reference)
      for (const auto& [x, y] : s.points)
        if (usable(x, spec.log_x) && usable(y, spec.log_y)) return true;
  return false;
}

std::string render_svg(const PlotSpec& spec) {
  if (!drawable(spec)) return "";
  std::vector<double> xs, ys;
  std::set<double> measured_x;
  for (const PlotSeries& s : spec.series)
    for (const auto& [x, y] : s.points)
      if (usable(x, spec.log_x) && usable(y, spec.log_y)) {
        xs.push_back(x), ys.push_back(y);
        if (!s.reference) measured_x.insert(x);
      }
  const Axis ax = make_axis(xs, spec.log_x, false), ay = make_axis(ys, spec.log_y, spec.y_from_zero);
  const double plot_w = kWidth - kLeft - kRight;
  const auto px = [&](double x) { return kLeft + ax.frac(x) * plot_w; };
  const auto py = [&](double y) { return kTop + (1 - ay.frac(y)) * kPlotHeight; };

  std::size_t longest = 0;
  for (const PlotSeries& s : spec.series) longest = std::max(longest, visible_text(s.label).size());
  const int columns = longest <= 38 ? 2 : 1;
  const std::size_t rows = (spec.series.size() + std::size_t(columns) - 1) / std::size_t(columns);
  const double legend_top = kTop + kPlotHeight + kAxisBelow;
  const double height = legend_top + double(rows) * kLegendRow + 8;

  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << num(kWidth) << ' ' << num(height)
      << "\" font-family=\"sans-serif\" font-size=\"" << num(kFont) << "\" role=\"img\" aria-label=\""
      << html_escape(spec.title) << "\">\n";
  out << "<title>" << html_escape(spec.title) << "</title>\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  out << "<text x=\"" << num(kWidth / 2) << "\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#1b1b1b\">"
      << html_escape(spec.title) << "</text>\n";

  // Grid and tick labels.
  out << "<g stroke=\"#e3e3e3\" stroke-width=\"1\">";
  const std::vector<double> xt = ticks(ax, measured_x), yt = ticks(ay, {});
  for (double t : xt) out << "<line x1=\"" << num(px(t)) << "\" y1=\"" << num(kTop) << "\" x2=\"" << num(px(t)) << "\" y2=\"" << num(kTop + kPlotHeight) << "\"/>";
  for (double t : yt) out << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(py(t)) << "\" x2=\"" << num(kLeft + plot_w) << "\" y2=\"" << num(py(t)) << "\"/>";
  out << "</g>\n<g fill=\"#333333\">";
  for (double t : xt)
    out << "<text x=\"" << num(px(t)) << "\" y=\"" << num(kTop + kPlotHeight + 18) << "\" text-anchor=\"middle\">" << tick_label(t) << "</text>";
  for (double t : yt)
    out << "<text x=\"" << num(kLeft - 6) << "\" y=\"" << num(py(t) + 5) << "\" text-anchor=\"end\">" << tick_label(t) << "</text>";
  out << "</g>\n";
  out << "<rect x=\"" << num(kLeft) << "\" y=\"" << num(kTop) << "\" width=\"" << num(plot_w) << "\" height=\"" << num(kPlotHeight)
      << "\" fill=\"none\" stroke=\"#555555\"/>\n";
  out << "<text x=\"" << num(kLeft + plot_w / 2) << "\" y=\"" << num(kTop + kPlotHeight + 40) << "\" text-anchor=\"middle\" fill=\"#1b1b1b\">"
      << html_escape(spec.x_label) << (spec.log_x ? " (log)" : "") << "</text>\n";
  out << "<text transform=\"translate(18 " << num(kTop + kPlotHeight / 2) << ") rotate(-90)\" text-anchor=\"middle\" fill=\"#1b1b1b\">"
      << html_escape(spec.y_label) << (spec.log_y ? " (log)" : "") << "</text>\n";

  // Series: lines, then markers at the measured points. Clipped to the plot area.
  out << "<defs><clipPath id=\"" << spec.id << "-area\"><rect x=\"" << num(kLeft) << "\" y=\"" << num(kTop) << "\" width=\"" << num(plot_w)
      << "\" height=\"" << num(kPlotHeight) << "\"/></clipPath></defs>\n<g clip-path=\"url(#" << spec.id << "-area)\">\n";
  for (const PlotSeries& s : spec.series) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : s.points)
      if (usable(p.first, spec.log_x) && usable(p.second, spec.log_y)) pts.push_back(p);
    std::stable_sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (pts.empty()) continue;
    const char* color = kPalette[s.color % kPaletteSize];
    out << "<g><title>" << html_escape(s.label) << "</title>";
    if (pts.size() > 1) {
      out << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"" << (s.reference ? "1.5" : "2")
          << (s.reference ? "\" stroke-dasharray=\"6 4" : "") << "\" points=\"";
      for (std::size_t i = 0; i < pts.size(); ++i) out << (i ? " " : "") << num(px(pts[i].first)) << ',' << num(py(pts[i].second));
      out << "\"/>";
    }
    if (!s.reference)
      for (const auto& [x, y] : pts) marker(out, (s.color / kPaletteSize) % 4, px(x), py(y), color);
    out << "</g>\n";
  }
  out << "</g>\n";

  // Legend below the plot, so long names never squeeze the plot area.
  const double col_w = (kWidth - kLeft) / columns;
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const PlotSeries& s = spec.series[i];
    const char* color = kPalette[s.color % kPaletteSize];
    const std::size_t row = i / std::size_t(columns), column = i % std::size_t(columns);
    const double x = kLeft + double(column) * col_w, y = legend_top + double(row) * kLegendRow;
    out << "<line x1=\"" << num(x) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x + 26) << "\" y2=\"" << num(y) << "\" stroke=\"" << color
        << "\" stroke-width=\"2\"" << (s.reference ? " stroke-dasharray=\"6 4\"" : "") << "/>";
    if (!s.reference) marker(out, (s.color / kPaletteSize) % 4, x + 13, y, color);
    out << "<text x=\"" << num(x + 32) << "\" y=\"" << num(y + 5) << "\" fill=\"#1b1b1b\">" << html_escape(s.label) << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace attnbench::report
