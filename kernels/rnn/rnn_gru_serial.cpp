// rnn.gru.serial: the GRU baseline, one thread.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_gru_serial() {
  static const RecurrentKernel kernel({"rnn.gru.serial", Family::rnn,
                                       "single-layer GRU (torch conventions): input projection as one GEMM, then per step the recurrent product and fused gates",
                                       baseline_features(Parallelism::serial, 1e-4), Op::gru});
  return kernel;
}

}  // namespace attnbench::kernels
