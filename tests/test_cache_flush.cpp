// Cache sizes from a made-up sysfs tree, and the flush itself.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cache_flush.hpp"

namespace fs = std::filesystem;

namespace attnbench {
namespace {

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("attnbench_sysfs_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void cache(int cpu, int index, const std::string& level, const std::string& type, const std::string& size,
             const std::string& shared) {
    const fs::path dir = root_ / ("cpu" + std::to_string(cpu)) / "cache" / ("index" + std::to_string(index));
    fs::create_directories(dir);
    std::ofstream(dir / "level") << level << "\n";
    std::ofstream(dir / "type") << type << "\n";
    std::ofstream(dir / "size") << size << "\n";
    std::ofstream(dir / "shared_cpu_list") << shared << "\n";
  }

  fs::path root_;
};

TEST_F(FakeSysfs, SharedCachesCountOnceAndInstructionCachesNot) {
  // Two cores with private L1d/L1i/L2 and one shared 32 MiB L3 (this machine's shape).
  for (int cpu = 0; cpu < 2; ++cpu) {
    const std::string self = std::to_string(cpu);
    cache(cpu, 0, "1", "Data", "32K", self);
    cache(cpu, 1, "1", "Instruction", "32K", self);
    cache(cpu, 2, "2", "Unified", "1024K", self);
    cache(cpu, 3, "3", "Unified", "32768K", "0-1");
  }
  fs::create_directories(root_ / "cpufreq");  // not a CPU
  EXPECT_EQ(data_cache_bytes(root_), 2 * (32 << 10) + 2 * (1 << 20) + (32 << 20));
}

TEST_F(FakeSysfs, SizesInMegabytesAndBytes) {
  cache(0, 0, "1", "Data", "48K", "0");
  cache(0, 1, "3", "Unified", "2M", "0");
  cache(1, 0, "1", "Data", "4096", "1");
  EXPECT_EQ(data_cache_bytes(root_), (48 << 10) + (2 << 20) + 4096);
}

TEST_F(FakeSysfs, NothingReadableGivesZero) {
  EXPECT_EQ(data_cache_bytes(root_ / "missing"), 0);
  cache(0, 0, "1", "Data", "garbage", "0");
  EXPECT_EQ(data_cache_bytes(root_), 0);
}

TEST(CacheFlush, FlushBytesAreTwiceTheCachesOrTheFallback) {
  const std::int64_t caches = data_cache_bytes("/sys/devices/system/cpu");
  const std::int64_t expected = 2 * (caches > 0 ? caches : kFallbackCacheBytes);
  EXPECT_GE(cache_flush_bytes(), expected);
  EXPECT_LT(cache_flush_bytes(), expected + 4096);
  EXPECT_EQ(cache_flush_bytes() % 4096, 0);
  flush_caches();  // runs (and ASan checks it stays inside its buffer)
  flush_caches();
}

}  // namespace
}  // namespace attnbench
