// Cache flushing for cold-cache measurement (cache_flush.hpp).
#include "cache_flush.hpp"

#include <omp.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <tuple>

namespace attnbench {
namespace {

namespace fs = std::filesystem;

std::string read_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

/// sysfs sizes: "32K", "1024K", "32M", or plain bytes; 0 when unreadable.
std::int64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const char unit = used < text.size() ? char(std::toupper(static_cast<unsigned char>(text[used]))) : 'B';
  switch (unit) {
    case 'K': return value << 10;
    case 'M': return value << 20;
    case 'G': return value << 30;
    default: return value;
  }
}

struct FlushBuffer {
  explicit FlushBuffer(std::int64_t bytes) : size(std::size_t(bytes)), data(new unsigned char[size]()) {}
  std::size_t size;
  std::unique_ptr<unsigned char[]> data;
};

FlushBuffer& flush_buffer() {
  static FlushBuffer buffer(cache_flush_bytes());
  return buffer;
}

}  // namespace

std::int64_t data_cache_bytes(const fs::path& cpu_root) {
  std::error_code ec;
  // One cache = (level, type, the CPUs sharing it): counted once however many CPUs list it.
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  std::int64_t total = 0;
  for (const fs::directory_entry& cpu : fs::directory_iterator(cpu_root, ec)) {
    const std::string name = cpu.path().filename().string();
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 || !std::isdigit(static_cast<unsigned char>(name[3])))
      continue;
    std::error_code inner;
    for (const fs::directory_entry& index : fs::directory_iterator(cpu.path() / "cache", inner)) {
      if (index.path().filename().string().compare(0, 5, "index") != 0) continue;
      const std::string type = read_line(index.path() / "type");
      if (type != "Data" && type != "Unified") continue;
      const auto key = std::make_tuple(read_line(index.path() / "level"), type,
                                       read_line(index.path() / "shared_cpu_list"));
      if (std::get<2>(key).empty() || !seen.insert(key).second) continue;
      total += parse_size(read_line(index.path() / "size"));
    }
  }
  return total;
}

std::int64_t cache_flush_bytes() {
  static const std::int64_t bytes = [] {
    std::int64_t caches = data_cache_bytes("/sys/devices/system/cpu");
    if (caches <= 0) caches = kFallbackCacheBytes;
    return (2 * caches + 4095) / 4096 * 4096;
  }();
  return bytes;
}

void flush_caches() {
  FlushBuffer& buffer = flush_buffer();
  unsigned char* data = buffer.data.get();
  const std::int64_t lines = std::int64_t(buffer.size / 64);
  // Static schedule: each thread writes one contiguous share; a write (not a read) also pushes out
  // dirty lines and cannot be skipped by the compiler, since the buffer lives on.
#pragma omp parallel for schedule(static)
  for (std::int64_t line = 0; line < lines; ++line) ++data[line * 64];
}

}  // namespace attnbench
