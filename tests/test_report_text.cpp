// The report's escaping and number formatting (reports/report_text.hpp) and its SVG plots.
#include <gtest/gtest.h>

#include "report_text.hpp"
#include "svg_plot.hpp"

namespace attnbench::report {
namespace {

const std::string kRlo = "\xE2\x80\xAE";  // U+202E RIGHT-TO-LEFT OVERRIDE

TEST(ReportText, HtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  EXPECT_EQ(html_escape("a\"b&c"), "a&quot;b&amp;c");
  EXPECT_EQ(html_escape("mha.blocked.omp"), "mha.blocked.omp");
}

TEST(ReportText, ControlAndInvisibleCharactersBecomeVisible) {
  EXPECT_EQ(visible_text("a\nb\r\tc"), "a b  c");
  EXPECT_EQ(visible_text("evil" + kRlo + "txt.exe"), "evil<U+202E>txt.exe");
  EXPECT_EQ(visible_text("\xE2\x80\x8B"), "<U+200B>");        // zero-width space
  EXPECT_EQ(visible_text("\xEF\xBB\xBF"), "<U+FEFF>");        // BOM
  EXPECT_EQ(visible_text("caf\xC3\xA9"), "caf\xC3\xA9");      // ordinary UTF-8 stays
  EXPECT_EQ(visible_text("\xFF\xC3"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // invalid bytes -> U+FFFD
  EXPECT_EQ(visible_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(html_escape(kRlo + "<b>"), "&lt;U+202E&gt;&lt;b&gt;");
}

TEST(ReportText, MarkdownEscapesEverythingThatStartsMarkup) {
  EXPECT_EQ(md_escape("a|b"), "a\\|b");
  EXPECT_EQ(md_escape("<script>"), "\\<script\\>");
  EXPECT_EQ(md_escape("[x](javascript:y)"), "\\[x\\](javascript:y)");
  EXPECT_EQ(md_escape("a*b`c~d&e"), "a\\*b\\`c\\~d\\&e");
  EXPECT_EQ(md_escape("_a_ b_c"), "\\_a\\_ b_c");
  EXPECT_EQ(md_escape("# title"), "\\# title");
  EXPECT_EQ(md_escape("- item"), "\\- item");
  EXPECT_EQ(md_escape("12. item"), "12\\. item");
  EXPECT_EQ(md_escape("![i](x)"), "!\\[i\\](x)");
  EXPECT_EQ(md_escape("1.29 ms"), "1.29 ms");
  EXPECT_EQ(md_escape("line1\n# line2"), "line1 # line2");
  EXPECT_EQ(md_escape("mha.naive.serial b1_h8_sq64_skv64_d64"), "mha.naive.serial b1_h8_sq64_skv64_d64");
  EXPECT_EQ(md_escape("a\\b"), "a\\\\b");
}

TEST(ReportText, CsvQuotesAndDefusesFormulas) {
  EXPECT_EQ(csv_text("plain"), "plain");
  EXPECT_EQ(csv_text("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_text("=cmd()"), "'=cmd()");
  EXPECT_EQ(csv_text("x\ny"), "x y");
  EXPECT_EQ(csv_number(std::nullopt), "");
  EXPECT_EQ(csv_number(0.000123456789012), "0.000123456789");
}

TEST(ReportText, NumbersKeepThreeSignificantDigits) {
  EXPECT_EQ(fmt_sig(1234.6), "1235");  // integers beyond 3 digits are not rounded away
  EXPECT_EQ(fmt_sig(12.345), "12.3");
  EXPECT_EQ(fmt_sig(0.0012345), "0.00123");
  EXPECT_EQ(fmt_sig(9.996), "10.0");
  EXPECT_EQ(fmt_sig(0), "0");
  EXPECT_EQ(fmt_seconds(0.00456), "4.56 ms");
  EXPECT_EQ(fmt_seconds(12.3e-6), "12.3 us");
  EXPECT_EQ(fmt_seconds(2.5), "2.50 s");
  EXPECT_EQ(fmt_bytes(3 * 1024.0 * 1024.0), "3.00 MiB");
  EXPECT_EQ(fmt_ratio(1.234), "1.23x");
}

TEST(SvgPlot, NothingToDrawGivesNoSvg) {
  PlotSpec spec = make_plot("t", "x", "y");
  EXPECT_EQ(render_svg(spec), "");
  spec.series.push_back({"only non-positive", {{0, 1}, {-1, 2}}, 0});
  EXPECT_FALSE(drawable(spec));  // log axes cannot show them
  spec.series.push_back({"reference only", {{1, 1}, {2, 2}}, 1, true});
  EXPECT_FALSE(drawable(spec));  // a bound alone is not a plot
}

TEST(SvgPlot, DeterministicScalableAndEscaped) {
  PlotSpec spec = make_plot("Time <vs> L", "sequence length", "seconds");
  spec.id = "fig01";
  spec.series.push_back({"<script>alert(1)</script>" + kRlo, {{64, 1e-4}, {128, 3e-4}, {1024, 2e-2}}, 0});
  spec.series.push_back({"peak", {{64, 1e-4}, {1024, 1e-4}}, 1, true});
  const std::string svg = render_svg(spec);
  EXPECT_EQ(svg, render_svg(spec));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 0), 0u);
  EXPECT_EQ(svg.find("width=\"720"), std::string::npos) << "the plot must scale with the page, not have a fixed width";
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find(kRlo), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;&lt;U+202E&gt;"), std::string::npos);
  EXPECT_NE(svg.find("Time &lt;vs&gt; L"), std::string::npos);
  EXPECT_NE(svg.find("clip-path=\"url(#fig01-area)\""), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);  // the reference line
  // Ticks at the measured lengths.
  for (const char* tick : {">64<", ">128<", ">1024<"}) EXPECT_NE(svg.find(tick), std::string::npos) << tick;
}

}  // namespace
}  // namespace attnbench::report
