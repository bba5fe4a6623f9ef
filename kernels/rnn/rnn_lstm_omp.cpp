// rnn.lstm.omp: the LSTM baseline, hidden units split over OpenMP threads, a barrier per step.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_lstm_omp() {
  static const RecurrentKernel kernel({"rnn.lstm.omp", Family::rnn,
                                       "the LSTM with each step's hidden units split over OpenMP threads (a barrier per step)",
                                       baseline_features(Parallelism::openmp, 1e-4), Op::lstm});
  return kernel;
}

}  // namespace attnbench::kernels
