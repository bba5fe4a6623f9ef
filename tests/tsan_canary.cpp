// A race that ThreadSanitizer must report: scripts/tsan.sh runs this and fails when it is NOT reported.
// Work items of the blocked kernels' OpenMP and oneTBB executors add to one counter without
// synchronisation, as a kernel bug would. It proves that tests/tsan.supp and the executor's
// happens-before annotations (executor.cpp) still leave a race between two work items visible.
//
//   tsan_canary omp|tbb     exits 0 itself; under TSan a reported race makes the exit status 66
#include <cstdio>
#include <string>
#include <thread>

#include "../kernels/attention/blocked/executor.hpp"

int main(int argc, char** argv) {
  using attnbench::Parallelism;
  const std::string which = argc == 2 ? argv[1] : "";
  if (which != "omp" && which != "tbb") {
    std::fprintf(stderr, "usage: tsan_canary omp|tbb\n");
    return 2;
  }
  auto executor = attnbench::kernels::blocked::make_executor(which == "omp" ? Parallelism::openmp : Parallelism::tbb, 2);
  long counter = 0;  // the bug: every item writes it, nothing orders the writes
  executor->run(64, [&](std::int64_t item, int) {
    counter += item;
    std::this_thread::yield();  // so that both threads take items
  });
  std::printf("%ld\n", counter);
  return 0;
}
