#include <sstream>

#include "report_text.hpp"
#include "report_writers.hpp"

namespace attnbench::report {

namespace {

std::string md(const Text& text) {
  std::string out;
  for (const Span& s : text.spans) {
    const std::string escaped = md_escape(s.text);
    out += s.style == Span::Style::strong && !escaped.empty() ? "**" + escaped + "**" : escaped;
  }
  return out;
}

struct MarkdownBlock {
  std::ostringstream& out;
  void operator()(const Heading& h) const {
    out << std::string(std::size_t(h.level), '#') << ' ' << md_escape(h.text) << "\n\n";
  }
  void operator()(const Paragraph& p) const { out << md(p.text) << "\n\n"; }
  void operator()(const Callout& c) const { out << "> **Warning:** " << md(c.text) << "\n\n"; }
  void operator()(const BulletList& l) const {
    for (const Text& item : l.items) out << "- " << md(item) << "\n";
    out << "\n";
  }
  void operator()(const Table& t) const {
    out << '|';
    for (const std::string& h : t.header) out << ' ' << md_escape(h) << " |";
    out << "\n|";
    for (std::size_t c = 0; c < t.header.size(); ++c)
      out << (c < t.numeric.size() && t.numeric[c] ? " ---: |" : " --- |");
    out << '\n';
    for (const auto& row : t.rows) {
      out << '|';
      for (const std::string& cell : row) out << ' ' << md_escape(cell) << " |";
      out << '\n';
    }
    out << '\n';
  }
  void operator()(const Figure& f) const {
    // The file name is made by the report builder (letters, digits, '-', '.'), never from a record.
    out << "![" << md_escape(f.caption) << "](" << f.file << ")\n\n*" << md_escape(f.caption) << "*\n\n";
  }
};

}  // namespace

std::string render_markdown(const Document& doc) {
  std::ostringstream out;
  out << "# " << md_escape(doc.title) << "\n\n";
  for (const Block& b : doc.blocks) std::visit(MarkdownBlock{out}, b);
  return out.str();
}

}  // namespace attnbench::report
