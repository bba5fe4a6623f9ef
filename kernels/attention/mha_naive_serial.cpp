// mha.naive.serial: the textbook formula on one thread; the baseline of every comparison.
#include "naive_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_naive_serial() {
  static const NaiveKernel kernel({"mha.naive.serial", Family::attention,
                                   "textbook attention: full score matrix per head, row softmax, P.V; one thread",
                                   naive_capabilities(Parallelism::serial)});
  return kernel;
}

}  // namespace attnbench::kernels
