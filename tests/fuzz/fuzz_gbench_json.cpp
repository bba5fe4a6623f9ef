// Google Benchmark JSON as `attnbench compare` reads it: any text either parses into runs whose
// samples are finite and non-negative, or throws ResultSetError with a message. Anything else (a
// crash, another exception such as a JSON type error) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gbench_json.hpp"
#include "result_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  attnbench::reports::looks_like_gbench_json(text);
  try {
    const attnbench::reports::GbenchFile file = attnbench::reports::parse_gbench_json("fuzz.json", text);
    for (const attnbench::reports::GbenchRun& run : file.runs)
      for (double s : run.samples_s)
        if (!std::isfinite(s) || s < 0) std::abort();
  } catch (const attnbench::reports::ResultSetError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
