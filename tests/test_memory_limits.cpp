// Memory pressure (issue 8, Faults): under an address-space limit (ulimit -v, RLIMIT_AS) and under a
// cgroup memory limit, a case that would not fit is refused before anything is allocated (a skipped
// record in a sweep, exit 2 from run) and none is killed: the sweep's worker and every case of the
// grid end ok or skipped, never failed or crashed, and the cgroup counts no OOM kill.
//
// The cgroup is a child of this process's own memory cgroup: v2 (memory.max) where the memory
// controller is on the unified hierarchy, else v1 (memory.limit_in_bytes). Creating one needs root;
// the test skips with the reason where it cannot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using namespace attnbench::test_support;

namespace {

// Two cases that fit in a few MiB and two (reference included) that need 1.77 GiB.
const std::string kSweep = std::string(ATTNBENCH_EXE) +
                           " sweep --kernel mha.naive.serial,mha.blocked.serial --problem b1_h2_sq33_d16 "
                           "--problem b64_h8_sq1024_d64 --threads 1 --warmup 0 --min-reps 1 --min-time 0 --max-time 0.01";

/// Every record ok or skipped (none failed or crashed), the big problem's skipped for memory.
void expect_small_ok_big_refused(const fs::path& out) {
  std::vector<std::string> warnings;
  const std::vector<nlohmann::json> records = read_results(out, &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(records.size(), 4u);
  for (const nlohmann::json& r : records) {
    const bool big = r["problem"]["batch"] == 64;
    EXPECT_EQ(r["status"], big ? "skipped" : "ok") << r["reason"];
    if (big) {
      EXPECT_NE(r["reason"].get<std::string>().find("is available"), std::string::npos) << r["reason"];
    }
  }
}

/// Whether this build (and so the attnbench it runs) reserves a sanitizer's shadow memory: terabytes of
/// address space, so that no process of it starts under any `ulimit -v`.
constexpr bool kSanitizerShadowMemory =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

TEST(MemoryLimits, UnderUlimitVACaseThatWouldNotFitIsRefusedBeforeAllocation) {
  if (kSanitizerShadowMemory)
    GTEST_SKIP() << "a sanitizer build reserves terabytes of address space for its shadow memory, so it cannot start "
                    "under ulimit -v at all; the release build runs this test";
  // 600 MiB of address space: the program and its libraries (OpenBLAS reserves 128 MiB for its
  // buffers) fit, the big cases do not. (Below about 250 MiB OpenBLAS's own thread spins on a failing
  // mmap at exit: a limit that small is not a case attnbench can handle.)
  TempDir dir("memory-ulimit");
  const fs::path out = dir / "out.jsonl";
  const CommandResult sweep =
      run_command("ulimit -v 614400 && timeout -s KILL 120 " + kSweep + " --out " + shell_quote(out.string()), dir.path());
  EXPECT_EQ(sweep.code, 0) << sweep.out << sweep.err;
  expect_small_ok_big_refused(out);
  const CommandResult run = run_command("ulimit -v 614400 && timeout -s KILL 60 " + std::string(ATTNBENCH_EXE) +
                                            " run --kernel mha.blocked.serial --problem b64_h8_sq1024_d64 --check",
                                        dir.path());
  EXPECT_EQ(run.code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("needs 1.77 GiB"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("is available; reduce --batch"), std::string::npos) << run.err;
}

/// A child memory cgroup of this process's own with `limit` bytes, removed at the end; or the reason
/// there cannot be one.
class ChildCgroup {
 public:
  explicit ChildCgroup(std::int64_t limit) {
    std::ifstream self("/proc/self/cgroup");
    std::string v1, v2;
    for (std::string line; std::getline(self, line);) {
      if (line.rfind("0::", 0) == 0) v2 = line.substr(3);
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a != std::string::npos && b != std::string::npos) {
        std::istringstream names(line.substr(a + 1, b - a - 1));
        for (std::string n; std::getline(names, n, ',');)
          if (n == "memory") v1 = line.substr(b + 1);
      }
    }
    const std::string name = "attnbench-test-" + std::to_string(::getpid());
    // v2: the controller must be enabled for children of our cgroup; v1: the memory hierarchy.
    const fs::path v2_parent = fs::path("/sys/fs/cgroup") / fs::path(v2).relative_path();
    const bool v2_memory = slurp(v2_parent / "cgroup.subtree_control").find("memory") != std::string::npos;
    const fs::path parent = v2_memory ? v2_parent : fs::path("/sys/fs/cgroup/memory") / fs::path(v1).relative_path();
    if (!v2_memory && v1.empty()) {
      reason_ = "no memory controller: cgroup v2 at /sys/fs/cgroup has none enabled for children and no v1 memory "
                "hierarchy is mounted";
      return;
    }
    std::error_code ec;
    if (!fs::create_directory(parent / name, ec) || ec) {
      reason_ = "cannot create a cgroup under " + parent.string() + ": " + (ec ? ec.message() : "exists");
      return;
    }
    dir_ = parent / name;
    version_ = v2_memory ? 2 : 1;
    std::ofstream(*dir_ / (version_ == 2 ? "memory.max" : "memory.limit_in_bytes")) << limit;
  }
  ~ChildCgroup() {
    if (dir_) ::rmdir(dir_->c_str());
  }
  ChildCgroup(const ChildCgroup&) = delete;
  ChildCgroup& operator=(const ChildCgroup&) = delete;

  const std::string& reason() const { return reason_; }
  int version() const { return version_; }
  /// A shell prefix that moves the shell (and so what it execs) into the cgroup.
  std::string enter() const { return "echo $$ > " + shell_quote((*dir_ / "cgroup.procs").string()) + " && "; }
  /// OOM kills in the cgroup so far.
  int oom_kills() const {
    std::istringstream text(slurp(*dir_ / (version_ == 2 ? "memory.events" : "memory.oom_control")));
    for (std::string key, value; text >> key >> value;)
      if (key == "oom_kill") return std::stoi(value);
    return 0;
  }

 private:
  std::optional<fs::path> dir_;
  int version_ = 0;
  std::string reason_;
};

TEST(MemoryLimits, InACgroupWithALimitACaseThatWouldNotFitIsSkippedAndNothingIsOomKilled) {
  ChildCgroup cgroup(std::int64_t{512} << 20);
  if (!cgroup.reason().empty()) GTEST_SKIP() << cgroup.reason();
  std::printf("cgroup v%d, memory limit 512 MiB\n", cgroup.version());
  TempDir dir("memory-cgroup");
  const fs::path out = dir / "out.jsonl";
  const CommandResult sweep = run_command(cgroup.enter() + "exec timeout -s KILL 120 " + kSweep + " --out " +
                                              shell_quote(out.string()), dir.path());
  EXPECT_EQ(sweep.code, 0) << sweep.out << sweep.err;
  expect_small_ok_big_refused(out);
  EXPECT_EQ(cgroup.oom_kills(), 0);
}

TEST(MemoryLimits, MpiRanksSharingACgroupGetAShareEachAndNoneIsOomKilled) {
  if (std::system("command -v " MPIEXEC_EXECUTABLE " >/dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun";
  // 256 MiB per rank: one rank fits in 400 MiB, two do not. Each rank used to see all of the headroom,
  // pass the check, and rank 1 was OOM-killed.
  ChildCgroup cgroup(std::int64_t{400} << 20);
  if (!cgroup.reason().empty()) GTEST_SKIP() << cgroup.reason();
  TempDir dir("memory-mpi");
  const CommandResult r = run_command(cgroup.enter() + "exec timeout -s KILL 60 env " + kMpiEnv + MPIEXEC_EXECUTABLE +
                                          " -n 2 " + ATTNBENCH_EXE + " run --kernel mha.tp.mpi --problem b8_h8_sq2048_d64 "
                                          "--threads 1 --warmup 0 --min-reps 1 --min-time 0 --max-time 0.01",
                                      dir.path());
  EXPECT_NE(r.err.find("is available to each of the 2 ranks on this host"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(cgroup.oom_kills(), 0) << r.out << r.err;
}

}  // namespace
