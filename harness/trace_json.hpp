#pragma once
// The phases of a profiled run as a Chrome / Perfetto trace (the JSON trace-event format that
// ui.perfetto.dev and chrome://tracing load): one process per rank (pid = rank), one track per
// recording thread (tid = its slot), complete ("X") events for phases, work items and MPI calls,
// and metadata ("M") events naming every process and thread.
//
// A RankTrace is one rank's part with times relative to an origin every rank takes at the same
// barrier, so the ranks' tracks line up; it serialises to bytes so rank 0 can gather them.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnbench/phase_recorder.hpp"

namespace attnbench {

struct RankTrace {
  struct Thread {
    int tid = 0;               ///< the recorder's slot
    long os_tid = 0;
    std::string name;          ///< OS thread name at registration
    std::int64_t dropped = 0;  ///< events not kept (over the cap)
  };
  struct Event {
    std::int64_t start_ns = 0;  ///< since the origin
    std::int64_t dur_ns = 0;
    std::int32_t tid = 0;
    std::int32_t name = 0;      ///< index into names
    std::int32_t category = 0;  ///< 0 phase, 1 work item, 2 communication
    std::int32_t unused = 0;    ///< explicit padding, so serialised bytes are all written
  };
  int rank = 0;
  std::string host;
  std::vector<std::string> names;
  std::vector<Thread> threads;
  std::vector<Event> events;
};

/// `recorder`'s events as rank `rank`'s trace, times measured from `origin_ns` (PhaseRecorder::now()).
RankTrace rank_trace(const PhaseRecorder& recorder, int rank, const std::string& host, std::int64_t origin_ns);

std::string serialize(const RankTrace& t);
/// Throws std::runtime_error on bytes that serialize() did not write.
RankTrace deserialize(std::string_view bytes);

/// Writes the traces as one trace-event JSON object ({"traceEvents": [...], "displayTimeUnit": "ms",
/// "otherData": other}), streaming, so millions of events need no DOM.
void write_trace_json(std::ostream& out, const std::vector<RankTrace>& ranks, const nlohmann::json& other);

}  // namespace attnbench
