#pragma once
// Thread placement inside the kernels' own thread pools. The harness (`--pin`, harness/thread_pinning.hpp)
// decides which CPU each pool slot gets; the OpenMP pool it pins from outside, but a TBB task_arena
// that a kernel owns admits threads the harness never sees, so such a pool holds a PoolPinObserver,
// which pins each thread as it joins. Without a placement (the default) nothing is pinned.
#include <tbb/task_arena.h>
#include <tbb/task_scheduler_observer.h>

#include <vector>

namespace attnbench {

/// cpus[i] is the CPU of pool slot i (slot i >= size: cpus[i % size]); empty: no pinning.
void set_pool_placement(std::vector<int> cpus);

/// Pins the calling thread to the CPU of `slot` when a placement is set (once per thread and
/// placement: a thread re-entering its slot costs a thread-local compare, no system call).
/// Returns false only when the system refused (sched_setaffinity failed).
bool pin_pool_thread(int slot);

/// Whether a placement is set (set_pool_placement with CPUs): pools install their pinning hooks only then.
bool pool_placement_set();

/// Pins every thread that enters `arena` to the CPU of its arena slot
/// (tbb::this_task_arena::current_thread_index()). Declare it after the arena it observes.
class PoolPinObserver final : public tbb::task_scheduler_observer {
 public:
  explicit PoolPinObserver(tbb::task_arena& arena) : tbb::task_scheduler_observer(arena) { observe(true); }
  ~PoolPinObserver() override { observe(false); }
  void on_scheduler_entry(bool) override { pin_pool_thread(tbb::this_task_arena::current_thread_index()); }
};

}  // namespace attnbench
