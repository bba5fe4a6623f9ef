// rnn.lstm.omp: the LSTM baseline, hidden units split over OpenMP threads, a barrier per step.
#include "recurrent.hpp"

namespace attnbench::kernels {

const Kernel& rnn_lstm_omp() {
  static const RecurrentKernel kernel({"rnn.lstm.omp", Family::rnn,
                                       "the LSTM with each step's hidden units split over OpenMP threads (a barrier per step)",
                                       recurrent_capabilities(Parallelism::openmp), Op::lstm});
  return kernel;
}

}  // namespace attnbench::kernels
