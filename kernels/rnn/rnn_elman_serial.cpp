// rnn.elman.serial: the Elman baseline, one thread.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_elman_serial() {
  static const RecurrentKernel kernel({"rnn.elman.serial", Family::rnn,
                                       "single-layer Elman (torch conventions): input projection as one GEMM, then per step the recurrent product and fused gates",
                                       baseline_features(Parallelism::serial, 1e-4), Op::elman});
  return kernel;
}

}  // namespace attnbench::kernels
