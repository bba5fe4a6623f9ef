// The problem-string parser: any input either parses to a descriptor that validates and whose string
// form parses back to the same descriptor, or throws ProblemError. Anything else (a crash, another
// exception, a round trip that changes the problem) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attnbench/problem.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  attnbench::Problem p;
  try {
    p = attnbench::parse_problem(text);
  } catch (const attnbench::ProblemError&) {
    return 0;
  }
  p.validate();  // must not throw: parse_problem returns validated descriptors
  if (!(attnbench::parse_problem(p.str()) == p)) std::abort();
  return 0;
}
