#pragma once
// How much memory this process may still use, how much it has used at peak, and a byte printer.
#include <cstdint>
#include <string>

namespace attnbench {

/// Bytes this process can still allocate without being killed or refused: the smallest of
///   - MemAvailable in /proc/meminfo,
///   - for every cgroup of this process and its ancestors that has a limit, the limit minus the
///     current usage (cgroup v2 memory.max - memory.current; cgroup v1 memory.limit_in_bytes -
///     memory.usage_in_bytes),
///   - RLIMIT_AS, if set, minus the current virtual size (VmSize).
/// Never negative when known (a limit already exceeded gives 0); -1 when none of these is known.
/// Used to refuse a case that will not fit before running it. With `processes_sharing` > 1 (the MPI
/// ranks on this host, each about to allocate alike) the host's and the cgroups' headroom is split
/// evenly among them: each sees all of it, and together they would take it several times over (an OOM
/// kill). RLIMIT_AS is per process and is not split.
std::int64_t available_memory_bytes(int processes_sharing = 1);

/// The process's peak resident set size in bytes: VmHWM from /proc/self/status, else
/// getrusage's ru_maxrss. -1 when neither is available.
std::int64_t peak_rss_bytes();

/// Resets the peak resident set size to the current one (writes "5" to /proc/self/clear_refs),
/// so the next peak_rss_bytes() is the peak of what ran since. Returns false when the kernel does
/// not allow it; peak_rss_bytes() is then the peak since the process started.
bool reset_peak_rss();

/// A human-readable byte count with binary units: "17 B", "512 KiB", "1.50 GiB". Whole numbers of
/// a unit print without decimals, others with two. Negative counts get a leading '-'.
std::string format_bytes(std::int64_t bytes);

}  // namespace attnbench
