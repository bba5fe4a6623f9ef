// mha.naive.omp: the naive kernel with (batch, head) pairs spread over OpenMP threads, so users see
// what threading alone buys before any blocking or vectorisation.
#include "naive_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_naive_omp() {
  static const NaiveKernel kernel({"mha.naive.omp", Family::attention,
                                   "the naive kernel threaded over (batch, head) pairs and projection rows with OpenMP",
                                   naive_capabilities(Parallelism::openmp)});
  return kernel;
}

}  // namespace attnbench::kernels
