#pragma once
// Text that leaves the report: every string that came from a record (kernel, host, reason, file
// name...) is data, never markup. Each output format has exactly one escaping function here, and the
// writers call nothing else, so a hostile record (`<script>`, quotes, `|`, newlines, right-to-left
// overrides, invalid UTF-8) cannot change the page or the table it lands in. Numbers are formatted
// here too, so the Markdown, the HTML and the tests that compare them with the records agree.
#include <optional>
#include <string>
#include <string_view>

namespace attnbench::report {

/// The one-line, visible form of `s`: invalid UTF-8 becomes U+FFFD; line breaks, tabs and other
/// control characters become a space; invisible formatting characters that can reorder or hide
/// text (bidi embeddings/overrides/isolates, LRM/RLM/ALM, zero-width characters, BOM) become a
/// visible `<U+202E>` marker. Every escaping function below applies this first.
std::string visible_text(std::string_view s);

/// For HTML and SVG/XML text and attribute values: visible_text, then & < > " ' as entities.
std::string html_escape(std::string_view s);

/// For Markdown (CommonMark/GFM) text and table cells: visible_text, then a backslash before every
/// character that can start inline markup, a link, an HTML tag, an entity or a table cell boundary
/// (\ ` * [ ] < > | ~ &, and _ unless inside a word), and before a line-start marker (# + - = or
/// the '.'/')' of a leading list number). Identifiers stay readable: `mha.naive.serial`, `b1_h8_sq64_d64`.
std::string md_escape(std::string_view s);

/// One CSV field (RFC 4180): visible_text (no embedded newlines), quoted when it holds , " or a
/// leading/trailing space; text that a spreadsheet would run as a formula (= + - @ first) gets a
/// leading apostrophe. Use csv_number for numbers.
std::string csv_text(std::string_view s);
/// A number for CSV with round-trip precision (%.9g), "" for nullopt.
std::string csv_number(std::optional<double> v);

/// `v` with `digits` significant digits, no exponent for everyday magnitudes ("12.3", "0.00123",
/// "1.23e+09" only beyond 1e9): how the report prints every measured figure.
std::string fmt_sig(double v, int digits = 3);
/// A duration with a unit chosen for it: "812 ns", "12.3 us", "4.56 ms", "1.23 s".
std::string fmt_seconds(double s);
/// Bytes in binary units: "512 B", "12.0 KiB", "3.45 MiB", "1.20 GiB".
std::string fmt_bytes(double b);
/// A ratio as "1.23x".
std::string fmt_ratio(double r);

}  // namespace attnbench::report
