// mha.blocked.serial: blocked (flash-style) attention with AVX2+FMA micro-kernels on one thread.
#include "blocked_attention.hpp"

namespace attnbench::kernels {

const Kernel& mha_blocked_serial() {
  static const BlockedKernel kernel({"mha.blocked.serial", Family::attention,
                                     "flash-style blocked attention: Q x KV tiles, online softmax, AVX2+FMA; one thread",
                                     blocked_capabilities(Parallelism::serial)});
  return kernel;
}

}  // namespace attnbench::kernels
