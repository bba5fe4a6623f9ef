#pragma once
/// \file phase_recorder.hpp
/// Where a kernel's time goes, for `attnbench profile`: kernels mark their phases (packing, QK^T,
/// softmax, PV, projections, ...) with PhaseScope; the harness gives a PhaseRecorder through
/// RunContext::phases when profiling and null otherwise.
///
/// - Zero cost when not profiling: every marker starts with a test of the recorder pointer, which is
///   null outside `profile` (one predictable branch at entry and the same one at exit).
/// - No locks on the hot path: each thread that records gets its own slot (cache-line aligned) on
///   first use, through a thread_local cache and one atomic increment; OpenMP, TBB and plain threads
///   alike. A slot's totals and events are written only by its thread.
/// - Exact totals, bounded trace: every phase's seconds and calls are summed exactly; the individual
///   events for the trace are kept up to a per-thread capacity. Fine-grained events (the tile-level
///   QK^T / softmax / PV of the blocked kernels, which can number millions per pass) stop at half the
///   capacity, so coarse events (work items, packing, projections, communication) keep the other half
///   and the trace still shows every thread's whole timeline. What was not kept is counted.
///
/// Totals are "self" times: phase scopes must not nest on one thread (a span, which is trace-only,
/// may enclose them). They are thread-seconds: a scope whose thread drives a team of T threads for
/// the phase (a oneDNN primitive, a multi-threaded BLAS call) counts T x its time.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnbench {

enum class Phase : std::uint8_t {
  projections,       ///< attention: the Q/K/V/O linear layers
  packing,           ///< attention: K/V tiles packed, queries prepared (scaled, laid out)
  qk,                ///< attention: S = Q K^T, with the mask
  softmax,           ///< attention: (online) softmax of S, the rows' final normalisation
  pv,                ///< attention: O += P V
  merge,             ///< attention: split-KV partials combined
  fused,             ///< attention: QK^T, softmax and PV in one micro-kernel (the decode path), not separable
  layout,            ///< data moved between layouts (e.g. heads <-> sequence around an all-to-all)
  input_projection,  ///< RNN: x W_ih^T + b for every step, up front
  recurrent,         ///< RNN: the recurrent product h W_hh^T of each step
  gates,             ///< RNN: the fused gate / cell update of each step
  gemm,              ///< conv1d: the shifted GEMMs (one per tap)
  bias_activation,   ///< conv1d: bias initialisation and ReLU
  sync,              ///< waiting for the other threads at a barrier
  communication,     ///< MPI (trace only: the seconds come from CommLog; the label names the phase)
};
inline constexpr int kPhaseCount = int(Phase::communication) + 1;
const char* to_string(Phase p);
/// The tile-level phases whose trace events are capped first (see the file comment).
bool is_fine(Phase p);

class PhaseRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  /// Nanoseconds of Clock (steady_clock: the same clock the harness and CommLog time with).
  static std::int64_t ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static std::int64_t now() { return ns(Clock::now()); }

  struct Event {
    std::int64_t start_ns = 0, end_ns = 0;  ///< Clock nanoseconds
    const char* label = nullptr;            ///< spans and communication: a string with static storage
    Phase phase = Phase::projections;
    bool span = false;                      ///< a trace-only span (a work item), not a phase
  };

  /// One thread's record; written only by its thread while recording.
  struct alignas(64) ThreadSlot {
    std::array<std::int64_t, kPhaseCount> ns{};     ///< exact self time per phase
    std::array<std::int64_t, kPhaseCount> calls{};  ///< scopes per phase
    std::vector<Event> events;                      ///< capacity reserved on registration
    std::int64_t dropped_fine = 0, dropped_coarse = 0;
    long os_tid = 0;
    std::string name;  ///< the OS thread name at registration (e.g. "attnbench", "omp worker")

    void add(Phase p, std::int64_t start, std::int64_t end, std::int64_t capacity, int team = 1) {
      ns[std::size_t(p)] += (end - start) * team;
      ++calls[std::size_t(p)];
      keep({start, end, nullptr, p, false}, is_fine(p), capacity);
    }
    void keep(const Event& e, bool fine, std::int64_t capacity) {
      const std::int64_t limit = fine ? capacity / 2 : capacity;
      if (std::int64_t(events.size()) < limit)
        events.push_back(e);
      else
        ++(fine ? dropped_fine : dropped_coarse);
    }
  };

  /// `max_threads`: slots available (a thread beyond them records nothing and is counted in
  /// unregistered()); `events_per_thread`: the trace capacity of each slot.
  PhaseRecorder(int max_threads, std::int64_t events_per_thread);
  ~PhaseRecorder();
  PhaseRecorder(const PhaseRecorder&) = delete;
  PhaseRecorder& operator=(const PhaseRecorder&) = delete;

  /// This thread's slot, registered on first use; null when every slot is taken.
  ThreadSlot* slot() {
    thread_local Cache cache;
    if (cache.recorder_id == id_) [[likely]]
      return cache.slot;
    cache = {id_, register_thread()};
    return cache.slot;
  }
  std::int64_t capacity() const { return events_per_thread_; }

  /// A trace-only event on this thread (communication, spans); no totals.
  void event(Phase p, const char* label, std::int64_t start_ns, std::int64_t end_ns, bool span = false) {
    if (ThreadSlot* s = slot()) s->keep({start_ns, end_ns, label, p, span}, false, events_per_thread_);
  }

  /// Clears every slot's totals and events (threads keep their slots). Not concurrent with recording.
  void reset();

  /// The registered slots (call when no thread is recording).
  int threads() const;
  const ThreadSlot& thread(int i) const { return *slots_[std::size_t(i)]; }
  /// Threads that found every slot taken (their phases are missing from the totals).
  std::int64_t unregistered() const { return unregistered_.load(std::memory_order_relaxed); }

  /// Sum over threads of each phase's nanoseconds.
  std::array<std::int64_t, kPhaseCount> total_ns() const;
  std::array<std::int64_t, kPhaseCount> total_calls() const;

 private:
  struct Cache {
    std::uint64_t recorder_id = 0;
    ThreadSlot* slot = nullptr;
  };
  ThreadSlot* register_thread();

  std::uint64_t id_;  ///< unique per recorder, so a thread_local cache never outlives its recorder's
  std::int64_t events_per_thread_;
  std::vector<std::unique_ptr<ThreadSlot>> slots_;
  std::atomic<int> next_{0};
  std::atomic<std::int64_t> unregistered_{0};
};

/// Times a phase on the calling thread: from construction (or switch_to) to destruction. With a null
/// recorder it does nothing but test the pointer. `team`: threads the calling thread drives through
/// the phase (1 unless it calls a multi-threaded library).
class PhaseScope {
 public:
  PhaseScope(PhaseRecorder* recorder, Phase phase, int team = 1) : recorder_(recorder) {
    if (recorder_) [[unlikely]]
      begin(phase, team);
  }
  ~PhaseScope() {
    if (recorder_) [[unlikely]]
      close(PhaseRecorder::now());
  }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

  /// Ends the current phase and starts `next` at the same instant (one clock read, no gap).
  void switch_to(Phase next) {
    if (recorder_) [[unlikely]] {
      const std::int64_t t = PhaseRecorder::now();
      close(t);
      phase_ = next, start_ = t;
    }
  }
  /// Ends the phase before the scope does (what follows is not ours to record, e.g. MPI progress).
  /// switch_to is not allowed after it.
  void stop() {
    if (recorder_) [[unlikely]] {
      close(PhaseRecorder::now());
      recorder_ = nullptr;
    }
  }

 private:
  void begin(Phase phase, int team) {
    slot_ = recorder_->slot();
    phase_ = phase;
    team_ = team;
    start_ = PhaseRecorder::now();
  }
  void close(std::int64_t t) {
    if (slot_) slot_->add(phase_, start_, t, recorder_->capacity(), team_);
  }

  PhaseRecorder* recorder_;
  PhaseRecorder::ThreadSlot* slot_ = nullptr;
  Phase phase_ = Phase::projections;
  int team_ = 1;
  std::int64_t start_ = 0;
};

/// A trace-only span (e.g. one work item, `label` a string literal) around phase scopes; no totals.
class PhaseSpan {
 public:
  PhaseSpan(PhaseRecorder* recorder, const char* label) : recorder_(recorder), label_(label) {
    if (recorder_) [[unlikely]]
      start_ = PhaseRecorder::now();
  }
  ~PhaseSpan() {
    if (recorder_) [[unlikely]]
      recorder_->event(Phase::projections, label_, start_, PhaseRecorder::now(), true);
  }
  PhaseSpan(const PhaseSpan&) = delete;
  PhaseSpan& operator=(const PhaseSpan&) = delete;

 private:
  PhaseRecorder* recorder_;
  const char* label_;
  std::int64_t start_ = 0;
};

}  // namespace attnbench
