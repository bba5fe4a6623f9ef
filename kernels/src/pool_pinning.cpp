// The pool placement set by the harness (pool_pinning.hpp).
#include "attnbench/pool_pinning.hpp"

#include <sched.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace attnbench {
namespace {

struct Placement {
  std::vector<int> cpus;
  unsigned generation = 0;  ///< changes with every set_pool_placement, so threads re-pin
};

std::mutex placement_mutex;
std::shared_ptr<const Placement> placement = std::make_shared<Placement>();
std::atomic<unsigned> placement_generation{0};

std::shared_ptr<const Placement> current() {
  std::lock_guard<std::mutex> lock(placement_mutex);
  return placement;
}

}  // namespace

void set_pool_placement(std::vector<int> cpus) {
  std::lock_guard<std::mutex> lock(placement_mutex);
  auto next = std::make_shared<Placement>();
  next->cpus = std::move(cpus);
  next->generation = placement->generation + 1;
  placement = std::move(next);
  placement_generation.store(placement->generation, std::memory_order_release);
}

bool pin_pool_thread(int slot) {
  // What this thread was last placed by: entering the same slot again costs no lock or system call.
  thread_local unsigned placed_generation = 0;
  thread_local int placed_slot = -1;
  if (placed_generation == placement_generation.load(std::memory_order_acquire) && placed_slot == slot) return true;
  const std::shared_ptr<const Placement> p = current();
  placed_generation = p->generation, placed_slot = slot;
  if (p->cpus.empty() || slot < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(p->cpus[std::size_t(slot) % p->cpus.size()], &set);
  if (sched_setaffinity(0, sizeof set, &set) == 0) return true;
  placed_slot = -1;  // try again next time
  return false;
}

bool pool_placement_set() { return !current()->cpus.empty(); }

}  // namespace attnbench
