// mha.blocked.omp: the blocked kernel with its work items (Q tiles, split-KV chunks, GEMM blocks)
// scheduled dynamically over OpenMP threads, largest first.
#include "blocked_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_blocked_omp() {
  static const BlockedKernel kernel({"mha.blocked.omp", Family::attention,
                                     "the blocked kernel over batch x heads x query tiles (split KV for decode) with OpenMP",
                                     blocked_capabilities(Parallelism::openmp)});
  return kernel;
}

}  // namespace attnbench::kernels
