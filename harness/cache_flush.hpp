#pragma once
// Cold-cache measurement (--cache cold): before each timed repetition, outside the timed region,
// every thread of the OpenMP pool writes its share of a buffer twice the size of all the machine's
// data caches, so that neither the shared last-level cache nor the private caches of the cores the
// kernel runs on still hold its inputs, weights or workspace.
#include <cstdint>
#include <filesystem>

namespace attnbench {

/// The caches' size assumed when sysfs describes none (a container without /sys, another OS): the
/// 64 MiB flush it gives is above the last-level cache of most single-socket servers; the record's
/// cache_flush_bytes says what was used.
inline constexpr std::int64_t kFallbackCacheBytes = std::int64_t(32) << 20;

/// The total size of the distinct data and unified caches of the CPUs under `cpu_root`
/// (cpuN/cache/indexM/{level,type,size,shared_cpu_list}; a cache shared by several CPUs counts once),
/// or 0 when none can be read. `cpu_root` is /sys/devices/system/cpu on Linux; tests pass a fake tree.
std::int64_t data_cache_bytes(const std::filesystem::path& cpu_root);

/// 2 x data_cache_bytes of this machine (2 x kFallbackCacheBytes when unknown), rounded up to 4 KiB:
/// streaming twice the capacity evicts every line whatever the replacement policy. Read once.
std::int64_t cache_flush_bytes();

/// Writes one byte in every 64-byte line of the process-wide flush buffer of cache_flush_bytes()
/// (allocated on first use and kept), shared among the OpenMP pool's threads so that each core's
/// private caches are evicted too. Thread-compatible: call from one thread at a time.
void flush_caches();

}  // namespace attnbench
