#pragma once
// The two renderings of a report Document. Both escape every string of the document (report_text.hpp).
#include <string>

#include "report_document.hpp"

namespace attnbench::report {

/// GitHub-flavoured Markdown; figures are image links to their SVG files beside report.md.
std::string render_markdown(const Document& doc);

/// One self-contained HTML page: inline CSS, figures inlined as <svg>, no script, no external
/// resource (it opens offline and from an e-mail attachment). Responsive: the text column reflows,
/// the plots scale to the width, and wide tables scroll inside their own box instead of widening
/// the page.
std::string render_html(const Document& doc);

}  // namespace attnbench::report
