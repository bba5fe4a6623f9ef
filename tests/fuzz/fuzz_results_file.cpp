// The results-file reader: any bytes give the records that are JSON objects and one warning per line
// skipped (torn, not JSON, not an object), never a crash or an exception (the file itself is readable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_input_file.hpp"
#include "results_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = attnbench::fuzz::write_input(data, size);
  std::vector<std::string> warnings;
  const std::vector<nlohmann::json> records = attnbench::read_results(path, &warnings);
  for (const nlohmann::json& r : records)
    if (!r.is_object()) std::abort();
  std::size_t lines = 0;
  for (std::size_t i = 0; i < size; ++i) lines += data[i] == '\n';
  if (records.size() + warnings.size() > lines + 1) std::abort();
  return 0;
}
