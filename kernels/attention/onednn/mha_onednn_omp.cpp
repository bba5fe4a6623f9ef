// mha.onednn.omp: attention composed from oneDNN primitives, each primitive threaded by oneDNN's own
// OpenMP runtime over RunContext::threads threads.
#include "onednn_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_onednn_omp() {
  static const OnednnKernel kernel({"mha.onednn.omp", Family::attention,
                                    "oneDNN 2.6 matmul(QK^T, scale, mask post-op) -> softmax -> matmul(PV), full score "
                                    "matrix per head; no additive scores (would need a d-times larger tanh tensor); "
                                    "oneDNN's OpenMP threads",
                                    onednn_capabilities(Parallelism::openmp)});
  return kernel;
}

}  // namespace attnbench::kernels
