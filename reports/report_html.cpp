#include <sstream>

#include "report_text.hpp"
#include "report_writers.hpp"

namespace attnbench::report {

namespace {

// Phone first: one column that reflows; long identifiers may break anywhere rather than widen the
// page; plots scale with the column (their viewBox keeps the proportions); tables scroll inside
// .table-wrap. Colours work in light and dark mode.
constexpr const char* kStyle = R"(
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #5a5a5a; --line: #d0d0d0;
        --warn-bg: #fff4d6; --warn-line: #c98a00; --code-bg: #f2f2f2; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e6; --bg: #161616; --muted: #a8a8a8; --line: #444; --warn-bg: #3a2e0c;
          --warn-line: #e0a100; --code-bg: #262626; }
  figure svg { background: #ffffff; border-radius: 4px; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 62rem; padding: 0.75rem; font: 16px/1.5 system-ui, -apple-system,
       "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; line-height: 1.25; } h2 { font-size: 1.3rem; margin-top: 2rem;
     border-bottom: 1px solid var(--line); } h3 { font-size: 1.1rem; }
code { font: 0.9em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: var(--code-bg);
       padding: 0 0.2em; border-radius: 3px; }
.warning { background: var(--warn-bg); border-left: 4px solid var(--warn-line); padding: 0.5rem 0.75rem;
           margin: 1rem 0; }
.table-wrap { overflow-x: auto; margin: 1rem 0; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top;
         overflow-wrap: normal; }
th { background: var(--code-bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0; max-width: 100%; }
figure svg { display: block; width: 100%; height: auto; max-width: 48rem; }
figcaption { color: var(--muted); font-size: 0.9rem; }
nav ul { padding-left: 1.2rem; }
)";

std::string html(const Text& text) {
  std::string out;
  for (const Span& s : text.spans) {
    const std::string escaped = html_escape(s.text);
    switch (s.style) {
      case Span::Style::plain: out += escaped; break;
      case Span::Style::code: out += "<code>" + escaped + "</code>"; break;
      case Span::Style::strong: out += "<strong>" + escaped + "</strong>"; break;
    }
  }
  return out;
}

struct HtmlBlock {
  std::ostringstream& out;
  void operator()(const Heading& h) const {
    const std::string tag = "h" + std::to_string(h.level);
    out << '<' << tag;
    if (!h.id.empty()) out << " id=\"" << html_escape(h.id) << '"';
    out << '>' << html_escape(h.text) << "</" << tag << ">\n";
  }
  void operator()(const Paragraph& p) const { out << "<p>" << html(p.text) << "</p>\n"; }
  void operator()(const Callout& c) const {
    out << "<div class=\"warning\" role=\"alert\"><strong>Warning:</strong> " << html(c.text) << "</div>\n";
  }
  void operator()(const BulletList& l) const {
    out << "<ul>\n";
    for (const Text& item : l.items) out << "<li>" << html(item) << "</li>\n";
    out << "</ul>\n";
  }
  void operator()(const Table& t) const {
    const auto cls = [&](std::size_t c) {
      return c < t.numeric.size() && t.numeric[c] ? std::string(" class=\"num\"") : std::string();
    };
    out << "<div class=\"table-wrap\"><table>\n<thead><tr>";
    for (std::size_t c = 0; c < t.header.size(); ++c) out << "<th" << cls(c) << '>' << html_escape(t.header[c]) << "</th>";
    out << "</tr></thead>\n<tbody>\n";
    for (const auto& row : t.rows) {
      out << "<tr>";
      for (std::size_t c = 0; c < row.size(); ++c) out << "<td" << cls(c) << '>' << html_escape(row[c]) << "</td>";
      out << "</tr>\n";
    }
    out << "</tbody></table></div>\n";
  }
  void operator()(const Figure& f) const {
    // The SVG is our own output (svg_plot.cpp escapes every label in it).
    out << "<figure>\n" << f.svg << "<figcaption>" << html_escape(f.caption) << "</figcaption>\n</figure>\n";
  }
};

}  // namespace

std::string render_html(const Document& doc) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << html_escape(doc.title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
      << "<h1>" << html_escape(doc.title) << "</h1>\n";
  bool any_section = false;
  for (const Block& b : doc.blocks)
    if (const auto* h = std::get_if<Heading>(&b); h && h->level == 2 && !h->id.empty()) any_section = true;
  if (any_section) {
    out << "<nav aria-label=\"Contents\"><ul>\n";
    for (const Block& b : doc.blocks)
      if (const auto* h = std::get_if<Heading>(&b); h && h->level == 2 && !h->id.empty())
        out << "<li><a href=\"#" << html_escape(h->id) << "\">" << html_escape(h->text) << "</a></li>\n";
    out << "</ul></nav>\n";
  }
  for (const Block& b : doc.blocks) std::visit(HtmlBlock{out}, b);
  out << "</body>\n</html>\n";
  return out.str();
}

}  // namespace attnbench::report
