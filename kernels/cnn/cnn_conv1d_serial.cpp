// cnn.conv1d.serial: the conv1d baseline on one thread (k shifted GEMMs per layer, OpenBLAS held to one thread).
#include "conv1d.hpp"

namespace attnbench::kernels {

const Kernel& cnn_conv1d_serial() {
  static const Conv1dKernel kernel({"cnn.conv1d.serial", Family::cnn,
                                    "1-D convolution stack ('same' or causal, dilations doubling) as shifted GEMMs",
                                    baseline_features(Parallelism::serial, 1e-4), Op::conv1d});
  return kernel;
}

}  // namespace attnbench::kernels
