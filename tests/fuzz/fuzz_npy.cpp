// The .npy reader: any bytes either read into a tensor whose shape and size agree with the header, or
// throw NpyError with a message. Anything else (a crash, an overflow, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_input_file.hpp"
#include "npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = attnbench::fuzz::write_input(data, size);
  try {
    const attnbench::NpyHeader header = attnbench::read_npy_header(path);
    const attnbench::Tensor t = attnbench::read_npy(path);
    if (t.shape() != header.shape) std::abort();
  } catch (const attnbench::NpyError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
