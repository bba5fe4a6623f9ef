// The three executors of executor.hpp.
#include "executor.hpp"

#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <memory>
#include <stdexcept>

#include "attnbench/pool_pinning.hpp"

// ThreadSanitizer cannot see oneTBB's synchronisation: libtbb is not instrumented, so the hand-off of a
// parallel_for's tasks to the arena's workers, and the caller's wait for them, happen where TSan does not
// look, and every read a worker makes of what the caller wrote would be reported as a race. Under TSan the
// two edges tbb::parallel_for guarantees are stated instead: the caller's writes before it happen before
// every body, and every body happens before it returns. Races between bodies are still reported.
#if defined(__SANITIZE_THREAD__)
#define ATTNBENCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ATTNBENCH_TSAN 1
#endif
#endif
#ifdef ATTNBENCH_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace attnbench::kernels::blocked {
namespace {

#ifdef ATTNBENCH_TSAN
void happens_before(void* sync) { __tsan_release(sync); }
void happens_after(void* sync) { __tsan_acquire(sync); }
#else
void happens_before(void*) {}
void happens_after(void*) {}
#endif

class SerialExecutor final : public Executor {
 public:
  int threads() const override { return 1; }
  void run(std::int64_t items, ItemBody body) override {
    for (std::int64_t i = 0; i < items; ++i) body(i, 0);
  }
};

class OpenMpExecutor final : public Executor {
 public:
  explicit OpenMpExecutor(int threads) : threads_(threads) {}
  int threads() const override { return threads_; }
  void run(std::int64_t items, ItemBody body) override {
    const int team = items < threads_ ? int(items) : threads_;
    if (team <= 1) {
      for (std::int64_t i = 0; i < items; ++i) body(i, 0);
      return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (std::int64_t i = 0; i < items; ++i) body(i, omp_get_thread_num());
  }

 private:
  int threads_;
};

class TbbExecutor final : public Executor {
 public:
  explicit TbbExecutor(int threads) : threads_(threads), arena_(threads) {
    arena_.initialize();
    // --pin: each joining thread takes its slot's CPU. Only then: oneTBB frees an observer's proxy lazily
    // on a worker thread, which LeakSanitizer reports when the process ends first.
    if (pool_placement_set()) pin_observer_ = std::make_unique<PoolPinObserver>(arena_);
  }
  int threads() const override { return threads_; }
  void run(std::int64_t items, ItemBody body) override {
    if (threads_ == 1 || items <= 1) {
      for (std::int64_t i = 0; i < items; ++i) body(i, 0);
      return;
    }
    char started = 0, finished = 0;  // ThreadSanitizer's names for the two edges (see the top)
    happens_before(&started);
    arena_.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::int64_t>(0, items, 1),
          [&](const tbb::blocked_range<std::int64_t>& range) {
            happens_after(&started);
            const int thread = tbb::this_task_arena::current_thread_index();
            for (std::int64_t i = range.begin(); i != range.end(); ++i) body(i, thread);
            happens_before(&finished);
          },
          tbb::simple_partitioner());
    });
    happens_after(&finished);
  }

 private:
  int threads_;
  tbb::task_arena arena_;
  std::unique_ptr<PoolPinObserver> pin_observer_;
};

}  // namespace

std::unique_ptr<Executor> make_executor(Parallelism parallelism, int threads) {
  if (threads < 1) throw std::invalid_argument("threads must be >= 1");
  switch (parallelism) {
    case Parallelism::serial: return std::make_unique<SerialExecutor>();
    case Parallelism::openmp: return std::make_unique<OpenMpExecutor>(threads);
    case Parallelism::tbb: return std::make_unique<TbbExecutor>(threads);
    case Parallelism::mpi: break;
  }
  throw std::invalid_argument("the blocked kernels run serial, openmp or tbb");
}

}  // namespace attnbench::kernels::blocked
