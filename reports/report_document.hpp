#pragma once
// The report as a format-neutral document: headings, paragraphs, warnings, lists, tables and figures,
// built once from the data (report_findings.cpp) and rendered to Markdown and HTML by two small
// writers (report_markdown.cpp, report_html.cpp). Every string held here is raw text: the writers
// escape all of it with report_text.hpp's one function per format, so no caller can forget.
#include <string>
#include <variant>
#include <vector>

namespace attnbench::report {

/// A run of text with one style. `code` marks identifiers (kernels, problems, file:line): <code> in
/// HTML; in Markdown it is escaped text like the rest, since a code span cannot hold every string.
struct Span {
  enum class Style { plain, code, strong };
  Style style = Style::plain;
  std::string text;
};

/// Inline text built from spans: Text().plain("fastest: ").code(kernel).
struct Text {
  std::vector<Span> spans;
  Text() = default;
  explicit Text(std::string s) { plain(std::move(s)); }
  Text& plain(std::string s) { return add(Span::Style::plain, std::move(s)); }
  Text& code(std::string s) { return add(Span::Style::code, std::move(s)); }
  Text& strong(std::string s) { return add(Span::Style::strong, std::move(s)); }
  Text& append(const Text& other) {
    spans.insert(spans.end(), other.spans.begin(), other.spans.end());
    return *this;
  }
  bool empty() const { return spans.empty(); }

 private:
  Text& add(Span::Style style, std::string s) {
    spans.push_back({style, std::move(s)});
    return *this;
  }
};

struct Heading {
  int level = 2;   ///< 1 = the title, 2 = a section, 3 = a subsection
  std::string text;
  std::string id;  ///< anchor for the table of contents (letters, digits, '-': made by the builder)
};
struct Paragraph {
  Text text;
};
/// A warning the reader must not miss (different machines or builds compared, failed cases).
struct Callout {
  Text text;
};
struct BulletList {
  std::vector<Text> items;
};
struct Table {
  std::vector<std::string> header;
  std::vector<bool> numeric;  ///< per column: right-aligned
  std::vector<std::vector<std::string>> rows;
};
/// A plot: the SVG text (svg_plot.hpp) inlined in HTML and written as `file` (in the output directory)
/// for Markdown.
struct Figure {
  std::string file;     ///< e.g. "fig-03-time-vs-seq.svg": made by the builder, safe as a path
  std::string svg;
  std::string caption;  ///< raw text
};

using Block = std::variant<Heading, Paragraph, Callout, BulletList, Table, Figure>;

struct Document {
  std::string title;
  std::vector<Block> blocks;
};

}  // namespace attnbench::report
