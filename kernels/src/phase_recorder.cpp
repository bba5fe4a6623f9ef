// Per-thread phase recording (phase_recorder.hpp).
#include "attnbench/phase_recorder.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

namespace attnbench {
namespace {

std::atomic<std::uint64_t> next_recorder_id{1};  // 0 is a thread's "no recorder yet"

}  // namespace

const char* to_string(Phase p) {
  switch (p) {
    case Phase::projections: return "projections";
    case Phase::packing: return "packing";
    case Phase::qk: return "qk";
    case Phase::softmax: return "softmax";
    case Phase::pv: return "pv";
    case Phase::merge: return "merge";
    case Phase::fused: return "fused_qk_softmax_pv";
    case Phase::layout: return "layout";
    case Phase::input_projection: return "input_projection";
    case Phase::recurrent: return "recurrent";
    case Phase::gates: return "gates";
    case Phase::gemm: return "gemm";
    case Phase::bias_activation: return "bias_activation";
    case Phase::sync: return "sync";
    case Phase::communication: return "communication";
  }
  return "?";
}

bool is_fine(Phase p) { return p == Phase::qk || p == Phase::softmax || p == Phase::pv; }

PhaseRecorder::PhaseRecorder(int max_threads, std::int64_t events_per_thread)
    : id_(next_recorder_id.fetch_add(1)), events_per_thread_(events_per_thread) {
  if (max_threads < 1) throw std::invalid_argument("PhaseRecorder: max_threads must be >= 1");
  if (events_per_thread < 0) throw std::invalid_argument("PhaseRecorder: events_per_thread must be >= 0");
  slots_.resize(std::size_t(max_threads));
}

PhaseRecorder::~PhaseRecorder() = default;

PhaseRecorder::ThreadSlot* PhaseRecorder::register_thread() {
  const int i = next_.fetch_add(1, std::memory_order_relaxed);
  if (i >= int(slots_.size())) {
    unregistered_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  // Only this thread writes slots_[i]; readers run after the recording threads are joined or idle.
  auto slot = std::make_unique<ThreadSlot>();
  slot->events.reserve(std::size_t(events_per_thread_));
  slot->os_tid = long(syscall(SYS_gettid));
  char name[32] = "";
  if (pthread_getname_np(pthread_self(), name, sizeof name) == 0) slot->name = name;
  slots_[std::size_t(i)] = std::move(slot);
  return slots_[std::size_t(i)].get();
}

int PhaseRecorder::threads() const {
  const int n = std::min<int>(next_.load(std::memory_order_acquire), int(slots_.size()));
  int registered = 0;
  while (registered < n && slots_[std::size_t(registered)]) ++registered;
  return registered;
}

void PhaseRecorder::reset() {
  for (const auto& s : slots_)
    if (s) {
      s->ns.fill(0), s->calls.fill(0);
      s->events.clear();
      s->dropped_fine = s->dropped_coarse = 0;
    }
  unregistered_.store(0, std::memory_order_relaxed);
}

std::array<std::int64_t, kPhaseCount> PhaseRecorder::total_ns() const {
  std::array<std::int64_t, kPhaseCount> t{};
  for (int i = 0; i < threads(); ++i)
    for (int p = 0; p < kPhaseCount; ++p) t[std::size_t(p)] += thread(i).ns[std::size_t(p)];
  return t;
}

std::array<std::int64_t, kPhaseCount> PhaseRecorder::total_calls() const {
  std::array<std::int64_t, kPhaseCount> t{};
  for (int i = 0; i < threads(); ++i)
    for (int p = 0; p < kPhaseCount; ++p) t[std::size_t(p)] += thread(i).calls[std::size_t(p)];
  return t;
}

}  // namespace attnbench
