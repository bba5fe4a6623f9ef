#include "sweep_axes.hpp"

#include <algorithm>
#include <map>

#include "cli_parse.hpp"
#include "exit_codes.hpp"

namespace attnbench {
namespace {

std::string joined(const std::vector<std::string>& words, const char* separator = ", ") {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : separator) + w;
  return text;
}

bool is_integer_text(const std::string& text) {
  const std::size_t digits = text.rfind('-', 0) == 0 ? 1 : 0;
  return text.size() > digits && std::all_of(text.begin() + digits, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::int64_t> expand_range(const std::string& option, const std::string& item, std::int64_t min,
                                       std::int64_t max) {
  const std::string form = "START:STOP:*F (geometric) or START:STOP:+S (arithmetic), e.g. 256:16384:*2";
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = item.find(':', start);
    parts.push_back(item.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 3) throw UsageError(option + ": range '" + item + "' needs three parts, " + form);
  const std::string where = option + " (range '" + item + "')";
  const std::int64_t first = parse_int(where + " start", parts[0], min, max);
  const std::int64_t last = parse_int(where + " stop", parts[1], min, max);
  const std::string& step = parts[2];
  const bool geometric = !step.empty() && step[0] == '*';
  if (step.empty() || (!geometric && step[0] != '+'))
    throw UsageError(where + ": the step '" + step + "' must be *F or +S; " + form);
  const std::int64_t by = parse_int(where + " step", step.substr(1), 0, INT64_MAX);
  if (geometric && by < 2)
    throw UsageError(where + ": the step *" + std::to_string(by) + " never reaches the stop; use a factor of 2 or more");
  if (!geometric && by < 1)
    throw UsageError(where + ": the step +0 never reaches the stop; use an increment of 1 or more");
  if (first > last)
    throw UsageError(where + ": the start " + std::to_string(first) + " is above the stop " + std::to_string(last) +
                     "; write the smaller value first");
  std::vector<std::int64_t> values;
  for (std::int64_t v = first;;) {
    values.push_back(v);
    if (values.size() > kMaxAxisValues)
      throw UsageError(where + ": more than " + std::to_string(kMaxAxisValues) + " values; use a larger step");
    // Stop before the next step would pass `last` (checked before stepping, so nothing overflows).
    if (geometric ? v > last / by : v > last - by) break;
    v = geometric ? v * by : v + by;
  }
  return values;
}

std::vector<std::string> expand_numbers(const std::string& option, const std::vector<std::string>& items,
                                        std::int64_t min, std::int64_t max, const std::vector<std::string>& words) {
  std::vector<std::string> values;
  for (const std::string& item : items)
    for (const std::string& entry : split_list(option, item)) {
      if (std::find(words.begin(), words.end(), entry) != words.end()) {
        values.push_back(entry);
      } else if (entry.find(':') != std::string::npos) {
        for (std::int64_t v : expand_range(option, entry, min, max)) values.push_back(std::to_string(v));
      } else if (is_integer_text(entry)) {
        values.push_back(std::to_string(parse_int(option, entry, min, max)));
      } else {
        throw UsageError(option + ": expected a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                         "], a range START:STOP:*F or START:STOP:+S" + (words.empty() ? "" : ", or " + joined(words, " or ")) +
                         "; got '" + entry + "'");
      }
      if (values.size() > kMaxAxisValues)
        throw UsageError(option + ": more than " + std::to_string(kMaxAxisValues) + " values; narrow the list");
    }
  return values;
}

std::vector<std::string> expand_words(const std::string& option, const std::vector<std::string>& items,
                                      const std::vector<std::string>& allowed) {
  std::vector<std::string> values;
  for (const std::string& item : items)
    for (const std::string& entry : split_list(option, item)) {
      if (std::find(allowed.begin(), allowed.end(), entry) == allowed.end()) {
        const std::string suggestion = did_you_mean(entry, allowed);
        throw UsageError(option + ": '" + entry + "' is not one of " + joined(allowed, " | ") +
                         (suggestion.empty() ? "" : "; " + suggestion));
      }
      values.push_back(entry);
    }
  return values;
}

std::vector<std::vector<std::string>> parse_zips(const std::vector<std::string>& items,
                                                 const std::vector<std::string>& zippable) {
  std::vector<std::vector<std::string>> zips;
  std::map<std::string, std::string> zip_of;  // axis -> the --zip item naming it
  // "none" (alone) undoes the zips of a preset or config file: every axis is crossed.
  if (items.size() == 1 && items.front() == "none") return zips;
  for (const std::string& item : items) {
    const std::vector<std::string> names = split_list("--zip", item);
    if (names.size() < 2)
      throw UsageError("--zip " + item + ": name two or more axes to advance together, e.g. --zip seq,batch");
    for (const std::string& name : names) {
      if (std::find(zippable.begin(), zippable.end(), name) == zippable.end()) {
        const std::string suggestion = did_you_mean(name, zippable);
        throw UsageError("--zip " + item + ": '" + name + "' is not an axis that can be zipped" +
                         (suggestion.empty() ? "" : "; " + suggestion) + " (axes: " + joined(zippable) + ")");
      }
      if (auto [it, added] = zip_of.emplace(name, item); !added)
        throw UsageError("--zip " + item + ": '" + name + "' is already zipped" +
                         (it->second == item ? " in this zip" : " by --zip " + it->second) +
                         "; an axis can be in one zip, once");
    }
    zips.push_back(names);
  }
  return zips;
}

std::vector<std::vector<std::size_t>> grid_points(const std::vector<AxisSize>& axes,
                                                  const std::vector<std::vector<std::string>>& zips) {
  std::map<std::string, std::size_t> index;
  for (std::size_t a = 0; a < axes.size(); ++a) index[axes[a].name] = a;
  // A unit is what the odometer turns: one crossed axis, or all the members of one zip.
  std::vector<std::vector<std::size_t>> units;
  std::vector<int> zip_at(axes.size(), -1);
  for (std::size_t z = 0; z < zips.size(); ++z) {
    const std::string text = "--zip " + [&] {
      std::string t;
      for (const std::string& n : zips[z]) t += (t.empty() ? "" : ",") + n;
      return t;
    }();
    for (const std::string& name : zips[z]) {
      if (!index.count(name))
        throw UsageError(text + ": --" + name + " has no values to zip; give it a list (e.g. --" + name +
                         " 1,2,4) or drop it from the zip");
      zip_at[index[name]] = int(z);
    }
    const AxisSize& first = axes[index[zips[z].front()]];
    for (const std::string& name : zips[z])
      if (axes[index[name]].size != first.size)
        throw UsageError(text + ": zipped axes need equal lengths, but " + first.name + " has " +
                         std::to_string(first.size) + " values and " + name + " has " +
                         std::to_string(axes[index[name]].size));
  }
  std::vector<bool> placed(zips.size(), false);
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (zip_at[a] < 0) {
      units.push_back({a});
    } else if (!placed[zip_at[a]]) {
      placed[zip_at[a]] = true;
      std::vector<std::size_t> members;
      for (const std::string& name : zips[zip_at[a]]) members.push_back(index[name]);
      units.push_back(members);
    }
  }
  long double total = 1;
  for (const auto& unit : units) total *= (long double)axes[unit.front()].size;
  if (total > (long double)kMaxGridPoints)
    throw UsageError("the axes cross to " + std::to_string((unsigned long long)std::min<long double>(total, 1e18L)) +
                     " points, more than " + std::to_string(kMaxGridPoints) + "; narrow the axes or --zip some");
  std::vector<std::vector<std::size_t>> points;
  if (total == 0) return points;
  points.reserve(std::size_t(total));
  std::vector<std::size_t> at(units.size(), 0), point(axes.size(), 0);
  for (;;) {
    for (std::size_t u = 0; u < units.size(); ++u)
      for (std::size_t a : units[u]) point[a] = at[u];
    points.push_back(point);
    std::size_t u = units.size();
    while (u > 0 && ++at[u - 1] == axes[units[u - 1].front()].size) at[--u] = 0;
    if (u == 0) break;
  }
  return points;
}

}  // namespace attnbench
