// Memory limits and usage, and the human-readable byte printer.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "memory_info.hpp"

namespace attnbench {
namespace {

constexpr std::int64_t kMiB = std::int64_t{1} << 20;

TEST(MemoryInfo, AvailableMemoryIsKnownAndPositiveOnLinux) {
  const std::int64_t available = available_memory_bytes();
  EXPECT_GT(available, 0);
}

TEST(MemoryInfo, PeakRssIsAtLeastWhatWasTouched) {
  const std::size_t size = 64 * kMiB;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, size);  // make every page resident
  const std::int64_t peak = peak_rss_bytes();
  ::munmap(p, size);
  EXPECT_GE(peak, static_cast<std::int64_t>(size));
}

TEST(MemoryInfo, ResetPeakRssForgetsAnEarlierPeak) {
  const std::size_t size = 128 * kMiB;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, size);
  ::munmap(p, size);  // resident memory drops, the recorded peak does not
  const std::int64_t before = peak_rss_bytes();
  if (!reset_peak_rss()) GTEST_SKIP() << "this kernel does not let the process reset its peak RSS";
  const std::int64_t after = peak_rss_bytes();
  EXPECT_LT(after, before - 64 * kMiB) << "before " << before << ", after " << after;
}

TEST(MemoryInfo, FormatBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1 KiB");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(512 * 1024), "512 KiB");
  EXPECT_EQ(format_bytes(3 * kMiB / 2 * 1024), "1.50 GiB");
  EXPECT_EQ(format_bytes(kMiB - 1), "1.00 MiB");  // not "1024.00 KiB"
  EXPECT_EQ(format_bytes(-2048), "-2 KiB");
  EXPECT_EQ(format_bytes(std::numeric_limits<std::int64_t>::max()), "8.00 EiB");
  EXPECT_EQ(format_bytes(std::numeric_limits<std::int64_t>::min()), "-8 EiB");
}

}  // namespace
}  // namespace attnbench
