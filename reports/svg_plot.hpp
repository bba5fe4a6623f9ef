#pragma once
// Line plots as SVG text, written by the program itself.
//
// Why SVG from C++ rather than matplotlib: the report must open offline as one file, so the plots
// are inlined into report.html; generating them here needs no Python at report time (a cluster
// login node or a CI container often lacks matplotlib), the output is byte-for-byte deterministic
// (tests compare it; two runs diff cleanly), and every label that came from a record goes through
// the same html_escape as the rest of the page. The plots scale with the page (viewBox, no fixed
// width), so they read on a phone.
#include <string>
#include <utility>
#include <vector>

namespace attnbench::report {

struct PlotSeries {
  std::string label;                              ///< raw text (escaped when drawn)
  std::vector<std::pair<double, double>> points;  ///< (x, y); drawn in x order; non-positive values are
                                                  ///< left out on a log axis
  int color = 0;             ///< index into the palette (stable per kernel across a report's plots)
  bool reference = false;    ///< a bound or ideal line (peak, roofline, ideal scaling): dashed, no markers
};

struct PlotSpec {
  std::string id = "plot";  ///< unique within a page (letters, digits, '-'; made by the caller, not from data)
  std::string title;
  std::string x_label, y_label;
  bool log_x = true, log_y = true;
  bool y_from_zero = false;  ///< linear y axis: start at 0 (speed-up, efficiency)
  std::vector<PlotSeries> series;
};

/// A plot with a log x axis; the y axis is log too, or linear from 0 (speed-ups, efficiencies, rates
/// against a small range) when `linear_y_from_zero`.
inline PlotSpec make_plot(std::string title, std::string x_label, std::string y_label, bool linear_y_from_zero = false) {
  PlotSpec spec;
  spec.title = std::move(title);
  spec.x_label = std::move(x_label);
  spec.y_label = std::move(y_label);
  spec.log_y = !linear_y_from_zero;
  spec.y_from_zero = linear_y_from_zero;
  return spec;
}

/// A standalone <svg> element (with xmlns, so it is also a valid .svg file), or "" when no series has
/// a drawable point.
std::string render_svg(const PlotSpec& spec);

/// Whether render_svg would draw something.
bool drawable(const PlotSpec& spec);

}  // namespace attnbench::report
