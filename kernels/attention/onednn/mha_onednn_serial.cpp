// mha.onednn.serial: attention composed from oneDNN primitives on one thread; the vendor-library peer
// the single-thread kernels are measured against.
#include "onednn_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_onednn_serial() {
  static const OnednnKernel kernel({"mha.onednn.serial", Family::attention,
                                    "oneDNN 2.6 matmul(QK^T, scale, mask post-op) -> softmax -> matmul(PV), full score "
                                    "matrix per head; no additive scores (would need a d-times larger tanh tensor); one thread",
                                    onednn_capabilities(Parallelism::serial)});
  return kernel;
}

}  // namespace attnbench::kernels
