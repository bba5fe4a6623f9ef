// Chrome / Perfetto trace JSON (trace_json.hpp).
#include "trace_json.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>
#include <stdexcept>

namespace attnbench {
namespace {

constexpr const char* kCategories[] = {"phase", "item", "communication"};

/// Appends / reads plain values and strings (length-prefixed) to / from a byte string.
struct Writer {
  std::string bytes;
  template <class T>
  void put(const T& v) {
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put(const std::string& s) {
    put(std::uint64_t(s.size()));
    bytes += s;
  }
};

struct Reader {
  std::string_view bytes;
  std::size_t at = 0;
  template <class T>
  void get(T& v) {
    need(sizeof v);
    std::memcpy(&v, bytes.data() + at, sizeof v);
    at += sizeof v;
  }
  void get(std::string& s) {
    std::uint64_t n = 0;
    get(n);
    need(n);
    s.assign(bytes.data() + at, n);
    at += n;
  }
  void need(std::size_t n) const {
    if (bytes.size() - at < n) throw std::runtime_error("trace bytes truncated");
  }
};

constexpr std::uint32_t kMagic = 0x61747472;  // "attr"

}  // namespace

RankTrace rank_trace(const PhaseRecorder& recorder, int rank, const std::string& host, std::int64_t origin_ns) {
  RankTrace t;
  t.rank = rank;
  t.host = host;
  std::map<std::string, std::int32_t> index;
  auto name_of = [&](const char* name) {
    auto [it, added] = index.emplace(name, std::int32_t(t.names.size()));
    if (added) t.names.emplace_back(name);
    return it->second;
  };
  for (int i = 0; i < recorder.threads(); ++i) {
    const PhaseRecorder::ThreadSlot& s = recorder.thread(i);
    t.threads.push_back({i, s.os_tid, s.name, s.dropped_fine + s.dropped_coarse});
    for (const PhaseRecorder::Event& e : s.events) {
      const std::int32_t category = e.span ? 1 : e.phase == Phase::communication ? 2 : 0;
      const char* name = e.label ? e.label : to_string(e.phase);
      t.events.push_back({e.start_ns - origin_ns, e.end_ns - e.start_ns, i, name_of(name), category});
    }
  }
  // A span is recorded when it ends, after the phases it encloses: in start order, an enclosing event
  // first (the longer of two that start together), as trace viewers nest them.
  std::stable_sort(t.events.begin(), t.events.end(), [](const RankTrace::Event& a, const RankTrace::Event& b) {
    return a.tid != b.tid ? a.tid < b.tid : a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.dur_ns > b.dur_ns;
  });
  return t;
}

std::string serialize(const RankTrace& t) {
  Writer w;
  w.put(kMagic);
  w.put(std::int32_t(t.rank));
  w.put(t.host);
  w.put(std::uint64_t(t.names.size()));
  for (const std::string& n : t.names) w.put(n);
  w.put(std::uint64_t(t.threads.size()));
  for (const RankTrace::Thread& th : t.threads) {
    w.put(std::int32_t(th.tid));
    w.put(std::int64_t(th.os_tid));
    w.put(th.name);
    w.put(th.dropped);
  }
  w.put(std::uint64_t(t.events.size()));
  w.bytes.append(reinterpret_cast<const char*>(t.events.data()), t.events.size() * sizeof(RankTrace::Event));
  return std::move(w.bytes);
}

RankTrace deserialize(std::string_view bytes) {
  Reader r{bytes};
  std::uint32_t magic = 0;
  r.get(magic);
  if (magic != kMagic) throw std::runtime_error("not a serialised rank trace");
  RankTrace t;
  std::int32_t rank = 0;
  r.get(rank);
  t.rank = rank;
  r.get(t.host);
  std::uint64_t n = 0;
  r.get(n);
  t.names.resize(n);
  for (std::string& s : t.names) r.get(s);
  r.get(n);
  t.threads.resize(n);
  for (RankTrace::Thread& th : t.threads) {
    std::int32_t tid = 0;
    std::int64_t os_tid = 0;
    r.get(tid), r.get(os_tid), r.get(th.name), r.get(th.dropped);
    th.tid = tid, th.os_tid = long(os_tid);
  }
  r.get(n);
  r.need(n * sizeof(RankTrace::Event));
  t.events.resize(n);
  std::memcpy(t.events.data(), bytes.data() + r.at, n * sizeof(RankTrace::Event));
  for (const RankTrace::Event& e : t.events)
    if (e.name < 0 || std::size_t(e.name) >= t.names.size() || e.category < 0 || e.category > 2)
      throw std::runtime_error("rank trace event out of range");
  return t;
}

void write_trace_json(std::ostream& out, const std::vector<RankTrace>& ranks, const nlohmann::json& other) {
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":" << other.dump() << ",\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out << ",\n";
    first = false;
  };
  auto meta = [&](const char* what, int pid, int tid, const nlohmann::json& args) {
    sep();
    out << nlohmann::json{{"name", what}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", args}}.dump();
  };
  char ts[64];
  for (const RankTrace& r : ranks) {
    meta("process_name", r.rank, 0, {{"name", "rank " + std::to_string(r.rank) + (r.host.empty() ? "" : " (" + r.host + ")")}});
    meta("process_sort_index", r.rank, 0, {{"sort_index", r.rank}});
    for (const RankTrace::Thread& th : r.threads) {
      std::string label = "thread " + std::to_string(th.tid) + " (tid " + std::to_string(th.os_tid) +
                          (th.name.empty() ? "" : ", " + th.name) + ")";
      if (th.dropped > 0) label += " [" + std::to_string(th.dropped) + " events over the cap not shown]";
      meta("thread_name", r.rank, th.tid, {{"name", label}});
      meta("thread_sort_index", r.rank, th.tid, {{"sort_index", th.tid}});
    }
    std::vector<std::string> names;  // JSON-escaped once
    for (const std::string& n : r.names) names.push_back(nlohmann::json(n).dump());
    for (const RankTrace::Event& e : r.events) {
      sep();
      // Microseconds with nanosecond digits: the format's unit.
      std::snprintf(ts, sizeof ts, "\"ts\":%.3f,\"dur\":%.3f", double(e.start_ns) * 1e-3, double(e.dur_ns) * 1e-3);
      out << "{\"name\":" << names[std::size_t(e.name)] << ",\"cat\":\"" << kCategories[e.category]
          << "\",\"ph\":\"X\"," << ts << ",\"pid\":" << r.rank << ",\"tid\":" << e.tid << "}";
    }
  }
  out << "\n]}\n";
}

}  // namespace attnbench
