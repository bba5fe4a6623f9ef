// cnn.conv1d.omp: the conv1d baseline with each batch entry's output rows split over OpenMP threads.
#include "conv1d.hpp"

namespace attnbench::kernels {

const Kernel& cnn_conv1d_omp() {
  static const Conv1dKernel kernel({"cnn.conv1d.omp", Family::cnn,
                                    "the conv1d stack with output-row blocks spread over OpenMP threads",
                                    baseline_features(Parallelism::openmp, 1e-4), Op::conv1d});
  return kernel;
}

}  // namespace attnbench::kernels
