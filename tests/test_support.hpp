#pragma once
// Helpers shared by the test programs.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "attnbench/problem.hpp"
#include "attnbench/workload.hpp"
#include "exit_codes.hpp"

extern char** environ;

namespace attnbench::test_support {

/// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test")
      : path_(std::filesystem::temp_directory_path() / ("attnbench-" + tag + "-" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// A validated problem from its fields, in descriptor order.
inline Problem make_problem(std::int64_t b, std::int64_t h, std::int64_t hk, std::int64_t sq, std::int64_t skv,
                            std::int64_t d, std::int64_t dv, Mask mask = Mask::none,
                            Score score = Score::scaled_dot, bool proj = false) {
  Problem p;
  p.batch = b;
  p.heads = h;
  p.kv_heads = hk;
  p.seq_q = sq;
  p.seq_kv = skv;
  p.head_dim = d;
  p.value_dim = dv;
  p.mask = mask;
  p.score = score;
  p.projections = proj;
  p.validate();
  return p;
}

/// make_inputs (random, never zeros), and for a padding mask lengths set so that the first batch entry
/// is fully masked (length 0) and the last not masked at all (length seq_kv).
inline TensorSet inputs_with_edge_lengths(const Problem& p, std::uint64_t seed) {
  TensorSet in = make_inputs(p, seed);
  if (p.mask == Mask::padding) {
    auto lengths = in.at("lengths").as<std::int32_t>();
    lengths[0] = 0;
    if (lengths.size() > 1) lengths[lengths.size() - 1] = std::int32_t(p.seq_kv);
  }
  return in;
}

/// The whole contents of a file ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// `s` as one single-quoted shell word.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CommandResult {
  int code = -1;  ///< exit status; -1 if killed by a signal
  std::string out, err;
};

/// Run a shell command with no stdin, capturing stdout and stderr through files in `dir`.
inline CommandResult run_command(const std::string& cmd, const std::filesystem::path& dir) {
  const std::filesystem::path out = dir / "stdout.log", err = dir / "stderr.log";
  const std::string full =
      cmd + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) + " </dev/null";
  const int status = std::system(full.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

/// Starts `command` under /bin/sh without waiting for it (begin it with `exec` so that the pid is the
/// program's own). With `own_group` it leads a new process group, as a shell job does: a Ctrl-C at a
/// terminal reaches the whole group, as kill(-pid, signal) does. Returns the pid, or -1.
inline pid_t spawn_shell(const std::string& command, bool own_group = false) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  }
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = -1;
  const int failed = posix_spawn(&pid, "/bin/sh", nullptr, &attr, const_cast<char**>(argv), environ);
  posix_spawnattr_destroy(&attr);
  return failed ? -1 : pid;
}

/// Polls `done` every 20 ms until it holds or `limit` passes; returns its last answer.
template <typename Pred>
bool wait_until(Pred&& done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// Whether `file` holds at least one whole line (a first record was written).
inline bool has_a_line(const std::filesystem::path& file) { return slurp(file).find('\n') != std::string::npos; }

/// The processes whose command line (/proc/PID/cmdline, arguments joined by spaces) contains `text`.
inline std::vector<pid_t> pids_with(const std::string& text) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) != std::string::npos) pids.push_back(pid_t(std::stol(name)));
  }
  return pids;
}

/// The environment (as shell words, ending in a space) that mpirun needs here: root needs the two ALLOW
/// variables; the sanitizer build's LeakSanitizer must not report Open MPI's own start-up allocations
/// (tests/lsan-openmpi.supp; ignored by the release build).
inline const std::string kMpiEnv =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
    "LSAN_OPTIONS=suppressions=" ATTNBENCH_SOURCE_DIR "/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0:print_suppressions=0 ";

/// Debian's interpreter, which has python3-torch and numpy (the first python3 on PATH may not).
inline constexpr const char* kPython = "/usr/bin/python3";

/// Whether kPython can import torch and numpy (checked once).
inline bool torch_available() {
  static const bool available = [] {
    const std::string cmd = std::string(kPython) + " -c 'import torch, numpy' >/dev/null 2>&1 </dev/null";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return available;
}

/// The message of the `Error` that `f` throws, or `none` if it throws none (any other exception escapes).
template <typename Error, typename F>
std::string thrown_message(F&& f, const std::string& none = "") {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return none;
}

/// The message of the UsageError `f` throws ("" if it throws none).
template <typename F>
std::string usage_error(F&& f) {
  return thrown_message<UsageError>(std::forward<F>(f));
}

}  // namespace attnbench::test_support
