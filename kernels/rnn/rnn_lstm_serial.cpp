// rnn.lstm.serial: the LSTM baseline, one thread.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_lstm_serial() {
  static const RecurrentKernel kernel({"rnn.lstm.serial", Family::rnn,
                                       "single-layer LSTM (torch conventions): input projection as one GEMM, then per step the recurrent product and fused gates",
                                       baseline_features(Parallelism::serial, 1e-4), Op::lstm});
  return kernel;
}

}  // namespace attnbench::kernels
