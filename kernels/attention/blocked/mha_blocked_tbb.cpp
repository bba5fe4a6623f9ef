// mha.blocked.tbb: the blocked kernel with its work items scheduled by oneTBB work stealing in a
// task_arena of the requested size.
#include "blocked_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_blocked_tbb() {
  static const BlockedKernel kernel({"mha.blocked.tbb", Family::attention,
                                     "the blocked kernel over batch x heads x query tiles (split KV for decode) with oneTBB",
                                     blocked_capabilities(Parallelism::tbb)});
  return kernel;
}

}  // namespace attnbench::kernels
