#include "report_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace attnbench::report {

namespace {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// Decodes one code point at s[i], advancing i; U+FFFD (advancing one byte) for invalid UTF-8
/// (bad lead or continuation bytes, overlong forms, surrogates, beyond U+10FFFF).
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  int extra = 0;
  char32_t cp = 0, min = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3, cp = lead & 0x07, min = 0x10000;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + extra >= s.size()) {  // truncated sequence
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += extra + 1;
  return cp;
}

bool is_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029; }

/// Characters that render as nothing but reorder, join or hide the text around them.
bool is_invisible_format(char32_t cp) {
  return cp == 0x00AD || cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF;
}

}  // namespace

std::string visible_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    if (is_control(cp)) {
      out += ' ';
    } else if (is_invisible_format(cp)) {
      char marker[16];
      std::snprintf(marker, sizeof marker, "<U+%04X>", unsigned(cp));
      out += marker;
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : visible_text(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string md_escape(std::string_view s) {
  // Always: what can open emphasis, code, links, HTML, entities, strikethrough or a table cell.
  static constexpr std::string_view kInline = "\\`*[]<>|~&";
  // At the start of a line only: headings, block quotes' and lists' markers, thematic breaks.
  static constexpr std::string_view kLeading = "#+-=";
  const std::string text = visible_text(s);
  const auto alnum = [&](std::size_t i) { return i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])); };
  // "1. x" or "1) x" at the start would become an ordered list ("1.29 ms" would not).
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // An underscore inside a word cannot start emphasis (CommonMark), so b1_h8_sq64 stays readable.
    const bool underscore = c == '_' && !(i > 0 && alnum(i - 1) && alnum(i + 1));
    const bool list_marker = i == digits && digits > 0 && (c == '.' || c == ')') && (i + 1 == text.size() || text[i + 1] == ' ');
    if (kInline.find(c) != std::string_view::npos || underscore || list_marker ||
        (i == 0 && kLeading.find(c) != std::string_view::npos))
      out += '\\';
    out += c;
  }
  return out;
}

std::string csv_text(std::string_view s) {
  std::string text = visible_text(s);
  if (!text.empty() && std::string_view("=+-@").find(text.front()) != std::string_view::npos) text.insert(0, "'");
  const bool quote = text.find_first_of(",\"") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", *v);
  return buf;
}

std::string fmt_sig(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return "0";
  const double mag = std::fabs(v);
  char buf[48];
  if (mag >= 1e9 || mag < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    return buf;
  }
  const int int_digits = int(std::floor(std::log10(mag))) + 1;
  int decimals = digits - int_digits;
  if (decimals < 0) decimals = 0;
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // Rounding can add a digit (9.996 -> "10.00"): print again with one decimal fewer.
  std::string text = buf;
  const double rounded = std::strtod(buf, nullptr);  // buf is what snprintf just printed
  if (decimals > 0 && std::fabs(rounded) >= std::pow(10.0, int_digits)) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals - 1, v);
    text = buf;
  }
  return text;
}

std::string fmt_seconds(double s) {
  const double a = std::fabs(s);
  if (a >= 1) return fmt_sig(s) + " s";
  if (a >= 1e-3) return fmt_sig(s * 1e3) + " ms";
  if (a >= 1e-6) return fmt_sig(s * 1e6) + " us";
  return fmt_sig(s * 1e9) + " ns";
}

std::string fmt_bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(b) >= 1024 && u < 4) b /= 1024, ++u;
  return (u == 0 ? fmt_sig(b, 4) : fmt_sig(b)) + " " + kUnits[u];
}

std::string fmt_ratio(double r) { return fmt_sig(r) + "x"; }

}  // namespace attnbench::report
