// Run-time choice of the micro-kernel table (see microkernels.hpp).
#include "microkernels.hpp"

#include <cstdlib>
#include <string_view>

namespace attnbench::kernels::blocked {

const char* to_string(Isa isa) { return isa == Isa::avx2 ? "avx2" : "generic"; }

bool isa_supported(Isa isa) {
  if (isa == Isa::generic) return true;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

Isa select_isa() {
  const char* forced = std::getenv("ATTNBENCH_BLOCKED_ISA");
  if (forced && std::string_view(forced) == "generic") return Isa::generic;
  return isa_supported(Isa::avx2) ? Isa::avx2 : Isa::generic;
}

const MicroKernels& micro_kernels(Isa isa) {
  return isa == Isa::avx2 && isa_supported(Isa::avx2) ? avx2_micro_kernels() : generic_micro_kernels();
}

}  // namespace attnbench::kernels::blocked
