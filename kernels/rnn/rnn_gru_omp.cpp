// rnn.gru.omp: the GRU baseline, hidden units split over OpenMP threads, a barrier per step.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_gru_omp() {
  static const RecurrentKernel kernel({"rnn.gru.omp", Family::rnn,
                                       "the GRU with each step's hidden units split over OpenMP threads (a barrier per step)",
                                       baseline_features(Parallelism::openmp, 1e-4), Op::gru});
  return kernel;
}

}  // namespace attnbench::kernels
