#pragma once
// How the blocked kernels' work items are run: the only thing that differs between mha.blocked.serial,
// .omp and .tbb. A phase is a list of independent items (already ordered by decreasing work); the
// executor runs body(item, thread) for every item and returns when all are done. `thread` is in
// [0, threads()) and indexes per-thread scratch.
//
//   serial  items in order on the calling thread
//   openmp  `omp parallel for schedule(dynamic, 1) num_threads(T)`: each free thread takes the next item
//   tbb     tbb::parallel_for with simple_partitioner inside a task_arena of T slots (work stealing)
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels::blocked {

/// A non-owning reference to a callable (no allocation, unlike std::function).
template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  // cppcheck-suppress noExplicitConstructor ; implicit by design, like std::function_ref
  FunctionRef(F&& f)  // NOLINT: implicit by design, like std::function_ref
      : object_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

using ItemBody = FunctionRef<void(std::int64_t item, int thread)>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual int threads() const = 0;
  /// Runs body(i, thread) for every i in [0, items); items are started in increasing order.
  virtual void run(std::int64_t items, ItemBody body) = 0;
};

/// The executor for a kernel's parallelism (serial, openmp or tbb) with `threads` threads.
std::unique_ptr<Executor> make_executor(Parallelism parallelism, int threads);

}  // namespace attnbench::kernels::blocked
