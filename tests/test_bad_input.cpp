// Every sub-command fed bad input, one table row per case (issue 8, "Bad input").
//
// Each row runs the real program (fork/exec, no shell) in a fresh directory holding the row's fixture
// files (results files, .npy inputs, configs, machine profiles), and checks:
//  - it ends by itself within kCaseTimeout (else its process group is killed and the case fails),
//    is not killed by a signal, and the sanitizer build reports nothing;
//  - its exit status is the row's: 2 bad input (every row but the few below);
//  - the message rule: stderr is exactly one line, "attnbench: error: <what is wrong>; <what to do>",
//    and it matches the row's regex, which names the problem and the fix;
//  - stdout is empty: refused before any work, nothing half-printed. Rows marked after_output fail
//    only once a case was measured (an output that opens but cannot be written: /proc/version,
//    /dev/full, a file size limit); their stdout may hold what came before, and whole files they
//    wrote before the failure may stay;
//  - every file that existed before (fixtures and results files, given as --out or as inputs) is
//    byte-identical afterwards, and no new file (no .tmp in any case) is left behind.
// Rows with status 0 are inputs the program tolerates by design (a torn last line on resume, report
// or compare; a bad default machine profile): it does its job and says once what it passed over.
//
// Run: ctest -R BadInput   (or build/<dir>/tests/test_bad_input --gtest_filter='*compare_*')
// The case count per sub-command is printed at the end (the figure for docs/RELIABILITY.md).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

extern char** environ;

namespace fs = std::filesystem;
using attnbench::test_support::slurp;
using attnbench::test_support::TempDir;

namespace {

constexpr auto kCaseTimeout = std::chrono::seconds(20);

// --- fixture contents ---------------------------------------------------------------------------

std::string make_record();

/// One results record of this build, written by a real `attnbench run` when a row first needs it.
const std::string& record() {
  static const std::string line = make_record();
  return line;
}

/// `record()` with `key` set to `value` (a JSON text), as one line.
std::string record_with(const std::string& key, const std::string& value) {
  nlohmann::json r = nlohmann::json::parse(record());
  r[key] = nlohmann::json::parse(value);
  return r.dump() + "\n";
}

/// A .npy image: magic, version 1.0, the header dict padded to 64 bytes, then `data_bytes` bytes of
/// float data (1.0f repeated when the dtype is '<f4').
std::string npy(const std::string& descr, const std::string& shape, std::size_t data_bytes,
                const std::string& fortran = "False") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xFF);
  out += char(header.size() >> 8);
  out += header;
  const float one = 1.0f;
  for (std::size_t i = 0; i < data_bytes; ++i) out += reinterpret_cast<const char*>(&one)[i % 4];
  return out;
}

// The tensors of b1_h1_sq8_d8 ([batch, seq, heads, dim] = 1x8x1x8 float32, 256 bytes).
constexpr const char* kNpyProblem = "b1_h1_sq8_d8";
const std::string kShape = "(1, 8, 1, 8)";
std::string good_npy() { return npy("<f4", kShape, 256); }

/// Google Benchmark JSON with `benchmarks` as given (a JSON text).
std::string gbench(const std::string& benchmarks) {
  return R"({"context": {"date": "2026-01-01", "host_name": "h", "num_cpus": 2, "mhz_per_cpu": 3000,
             "library_build_type": "release"}, "benchmarks": )" +
         benchmarks + "}\n";
}

// --- the table ----------------------------------------------------------------------------------

struct Fixture {
  std::string path;                     ///< relative to the case directory; parents are created
  std::function<std::string()> content;  ///< evaluated when the case runs
};

enum class Stdout { file, dev_full };

struct Row {
  std::string name;
  std::vector<std::string> argv;  ///< after the program name; it runs in the case directory (relative paths)
  int status;                     ///< expected exit status
  std::string message;            ///< ECMAScript regex the stderr line must match (names problem and fix)
  std::vector<Fixture> files = {};
  Stdout out = Stdout::file;
  /// When set, RLIMIT_FSIZE in the child (in bytes), with SIGXFSZ ignored: a write past it fails with
  /// EFBIG, as on a full disk. The limit also applies to the stderr log, so it leaves room for the message.
  std::function<rlim_t()> file_size_limit = nullptr;
  std::vector<std::string> env = {};        ///< extra NAME=VALUE
  /// The failure comes after measuring, so stdout may hold what was printed before it.
  bool output_before_failure = false;
};

Row after_output(Row row) {
  row.output_before_failure = true;
  return row;
}

Fixture text(std::string path, std::string content) {
  return {std::move(path), [c = std::move(content)] { return c; }};
}
Fixture results(std::string path) { return {std::move(path), [] { return record(); }}; }
Fixture lazy(std::string path, std::function<std::string()> make) { return {std::move(path), std::move(make)}; }

/// q.npy k.npy v.npy in `dir`, each good unless replaced in `bad` (name -> content; "" removes it).
std::vector<Fixture> tensors(const std::string& dir, std::map<std::string, std::function<std::string()>> bad) {
  std::vector<Fixture> files;
  for (const char* name : {"q", "k", "v"}) {
    const auto it = bad.find(name);
    if (it == bad.end()) {
      files.push_back(lazy(dir + "/" + name + ".npy", good_npy));
    } else if (it->second) {
      files.push_back(lazy(dir + "/" + name + ".npy", it->second));
    }
  }
  for (auto& [name, make] : bad)
    if (name != "q" && name != "k" && name != "v") files.push_back(lazy(dir + "/" + name + ".npy", make));
  return files;
}

std::vector<std::string> run_on(std::vector<std::string> extra) {
  std::vector<std::string> argv = {"run", "--kernel", "mha.naive.serial", "--problem", kNpyProblem,
                                   "--min-time", "0", "--min-reps", "2", "--warmup", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<Row> rows();

// A failing row prints its name, not the bytes of the struct.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// --- running one case ---------------------------------------------------------------------------

struct Outcome {
  bool timed_out = false;
  int status = -1;  ///< exit status, or -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

/// Runs the program with the row's arguments in `cwd` (fork/exec, no shell), stdout and stderr to files
/// in `logs`.
Outcome run_program(const Row& row, const fs::path& cwd, const fs::path& logs) {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> words = {ATTNBENCH_EXE};
  words.insert(words.end(), row.argv.begin(), row.argv.end());
  std::vector<char*> c_argv;
  for (std::string& w : words) c_argv.push_back(w.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env_words;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    // No machine profile from the environment: a row that wants one says so.
    if (entry.rfind("ATTNBENCH_", 0) != 0 && entry.rfind("OMP_NUM_THREADS=", 0) != 0) env_words.push_back(entry);
  }
  env_words.push_back("OMP_NUM_THREADS=1");
  env_words.insert(env_words.end(), row.env.begin(), row.env.end());
  std::vector<char*> c_env;
  for (std::string& w : env_words) c_env.push_back(w.data());
  c_env.push_back(nullptr);
  const std::string out_path = row.out == Stdout::dev_full ? "/dev/full" : (logs / "stdout").string();
  const std::string err_path = (logs / "stderr").string();
  const std::string dir = cwd.string();
  const rlim_t fsize_limit = row.file_size_limit ? row.file_size_limit() : RLIM_INFINITY;

  const pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a hang is killed with every child it started
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    if (fsize_limit != RLIM_INFINITY) {
      ::signal(SIGXFSZ, SIG_IGN);  // an ignored disposition survives exec: write() fails with EFBIG instead
      const rlimit limit{fsize_limit, fsize_limit};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(126);
    }
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  Outcome o;
  int wstatus = 0;
  const auto deadline = std::chrono::steady_clock::now() + kCaseTimeout;
  for (;;) {
    const pid_t done = ::waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      o.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);  // anything it left running (ESRCH when nothing is)
  if (WIFEXITED(wstatus)) o.status = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) o.signal = WTERMSIG(wstatus);
  o.out = row.out == Stdout::dev_full ? "" : slurp(logs / "stdout");
  o.err = slurp(err_path);
  return o;
}

/// Every regular file under `dir` with its contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return files;
}

/// The one-line message rule: exactly one line on stderr, "attnbench: error: ..." ending in '\n'.
::testing::AssertionResult one_line_message(const std::string& err) {
  static const std::string prefix = "attnbench: error: ";
  if (err.rfind(prefix, 0) != 0) return ::testing::AssertionFailure() << "stderr does not start with '" << prefix << "'";
  if (err.empty() || err.back() != '\n' || err.find('\n') != err.size() - 1)
    return ::testing::AssertionFailure() << "stderr is not exactly one line";
  return ::testing::AssertionSuccess();
}

std::string make_record() {
  TempDir dir("bad-input-record");
  const Row make{"record", run_on({"--out", "r.jsonl"}), 0, ""};
  const Outcome o = run_program(make, dir.path(), dir.path());
  const std::string line = slurp(dir / "r.jsonl");
  if (o.status != 0 || std::count(line.begin(), line.end(), '\n') != 1)
    throw std::runtime_error("could not make a results record for the fixtures: " + o.err);
  return line;
}

class BadInput : public ::testing::TestWithParam<Row> {
 public:
  // The worst time to an answer, for docs/RELIABILITY.md.
  static void TearDownTestSuite() {
    if (slowest_.second > 0) std::cout << "slowest case: " << slowest_.first << ", " << slowest_.second << " s\n";
  }

 protected:
  static void took(const std::string& name, double seconds) {
    if (seconds > slowest_.second) slowest_ = {name, seconds};
  }

 private:
  static inline std::pair<std::string, double> slowest_{"", 0.0};
};

TEST_P(BadInput, ExitsWithOneLineNamingTheProblemAndTheFix) {
  const Row& row = GetParam();
  TempDir tmp("bad-input");
  const fs::path work = tmp / "work";
  fs::create_directories(work);
  for (const Fixture& f : row.files) {
    fs::create_directories((work / f.path).parent_path());
    const std::string content = f.content();
    std::ofstream(work / f.path, std::ios::binary).write(content.data(), std::streamsize(content.size()));
  }
  const auto before = snapshot(work);

  const auto start = std::chrono::steady_clock::now();
  const Outcome o = run_program(row, work, tmp.path());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  ASSERT_FALSE(o.timed_out) << "hung: killed after " << kCaseTimeout.count() << " s";
  ASSERT_EQ(o.signal, 0) << "killed by signal " << o.signal << " (" << ::strsignal(o.signal) << ")\n" << o.err;
  static const std::regex sanitizer("AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:");
  EXPECT_FALSE(std::regex_search(o.err, sanitizer)) << o.err;
  EXPECT_EQ(o.status, row.status) << o.err << o.out;
  const std::regex message(row.message);
  if (row.status == 0) {
    // Tolerated input: the command does its job and says once what it passed over (on stderr, or in the
    // console report's own warnings on stdout).
    EXPECT_LE(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_TRUE(std::regex_search(o.err, message) || std::regex_search(o.out, message))
        << "expected /" << row.message << "/ in: " << o.err << o.out;
  } else {
    EXPECT_TRUE(one_line_message(o.err)) << o.err;
    EXPECT_TRUE(std::regex_search(o.err, message)) << "expected /" << row.message << "/ in: " << o.err;
    if (!row.output_before_failure) {
      EXPECT_EQ(o.out, "") << "stdout should be empty";
    }
  }
  const auto after = snapshot(work);
  for (const auto& [file, content] : before) {
    const auto it = after.find(file);
    ASSERT_NE(it, after.end()) << file << " was removed";
    EXPECT_TRUE(it->second == content) << file << " was changed";
  }
  // Refused before any work: nothing is created. After some work (or when tolerated), only whole files.
  for (const auto& [file, content] : after)
    if (!before.count(file)) {
      EXPECT_TRUE(row.status == 0 || row.output_before_failure) << file << " was left behind";
      EXPECT_NE(fs::path(file).extension(), ".tmp") << file << ": a temporary file was left behind";
    }
  RecordProperty("seconds", std::to_string(seconds));
  took(row.name, seconds);
}

INSTANTIATE_TEST_SUITE_P(Table, BadInput, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

/// The figure for docs/RELIABILITY.md: distinct cases per sub-command (and that there are enough).
TEST(BadInputTable, CoversEverySubCommandWithDistinctCases) {
  std::map<std::string, int> per_command;
  std::set<std::string> names;
  for (const Row& r : rows()) {
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate row name " << r.name;
    const std::string command = r.name.substr(0, r.name.find('_'));
    ++per_command[command];
  }
  for (const char* c : {"top", "list", "run", "sweep", "profile", "calibrate", "project", "report", "compare"})
    EXPECT_GE(per_command[c], 2) << c << " has too few rows";
  EXPECT_GE(names.size(), 60u);
  std::string summary;
  for (const auto& [c, n] : per_command) summary += c + " " + std::to_string(n) + ", ";
  std::cout << "bad-input cases: " << names.size() << " (" << summary.substr(0, summary.size() - 2) << ")\n";
}

// --- the rows -----------------------------------------------------------------------------------
// Each row's name starts with its sub-command ("top" for the program itself).

std::vector<Row> rows() {
  const std::vector<std::string> kRun = {"run", "--kernel", "mha.naive.serial", "--problem", kNpyProblem};
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = kRun;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto heads = [](std::string value) {
    return std::vector<std::string>{"run", "--kernel", "mha.naive.serial", "--seq", "8", "--head-dim", "8", "--heads", value};
  };
  const auto shape = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"run", "--kernel", "mha.naive.serial", "--heads", "2", "--seq", "8", "--head-dim", "8"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::vector<std::string> kSweep = {"sweep", "--kernel", "mha.naive.serial", "--problem", kNpyProblem,
                                           "--dry-run", "--quiet"};
  const auto sweep = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = kSweep;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto axes = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"sweep", "--kernel", "mha.naive.serial", "--dry-run", "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto profile = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"profile", "--kernel", "mha.naive.serial", "--problem", kNpyProblem};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto project = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"project", "--problem", "b1_h16_sq4096_d64", "--gflops", "100"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto compare = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"compare"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string kInt = R"(expected a whole number in \[)";  // parse_int's fix
  const std::string kNum = R"(expected a number)";

  return {
      // --- the program itself ---
      {"top_no_command", {}, 2, R"(no command.*attnbench --help)"},
      {"top_misspelled_command", {"sweeep"}, 2, R"(unknown command 'sweeep'; did you mean 'sweep')"},
      {"top_unknown_command", {"benchmark"}, 2, R"(unknown command 'benchmark'.*attnbench --help)"},
      {"top_option_instead_of_command", {"--kernel", "mha.naive.serial"}, 2, R"(unknown command '--kernel'.*--help)"},

      // --- list ---
      {"list_misspelled_option", {"list", "--kernl", "mha.*"}, 2, R"(unknown option '--kernl'.*did you mean '--kernel')"},
      {"list_misspelled_kernel", {"list", "--kernel", "mha.naive.seral"}, 2,
       R"(no kernel matches 'mha.naive.seral'.*mha.naive.serial)"},
      {"list_empty_kernel", {"list", "--kernel", ""}, 2, R"(no kernel matches ''.*attnbench list)"},
      {"list_positional", {"list", "mha.naive.serial"}, 2, R"(takes no positional arguments.*--)"},
      {"list_switch_with_value", {"list", "--json=yes"}, 2, R"(--json.*see 'attnbench list --help')"},
      {"list_stdout_full", {"list"}, 2, R"(standard output.*No space left)", {}, Stdout::dev_full},

      // --- run: options and kernel ids ---
      {"run_misspelled_kernel", run({"--kernel", "mha.blocked.ompp"}), 2, R"(unknown kernel.*mha.blocked.omp)"},
      {"run_empty_kernel", {"run", "--kernel", "", "--problem", kNpyProblem}, 2, R"(--kernel: empty item: no value given; give one)"},
      {"run_kernel_list_empty_item", {"run", "--kernel", "mha.naive.serial,", "--problem", kNpyProblem}, 2,
       R"(--kernel: empty item)"},
      {"run_misspelled_option", run({"--chekc"}), 2, R"(unknown option '--chekc'.*did you mean '--check')"},
      {"run_option_missing_value", run({"--threads"}), 2, R"(--threads.*attnbench run --help)"},
      // --- run: numbers ---
      {"run_heads_nan", heads("nan"), 2, "--heads: " + kInt},
      {"run_heads_inf", heads("inf"), 2, "--heads: " + kInt},
      {"run_heads_1e99", heads("1e99"), 2, "--heads: " + kInt},
      {"run_heads_trailing_text", heads("12abc"), 2, "--heads: " + kInt},
      {"run_heads_empty", heads(""), 2, "--heads: " + kInt},
      {"run_batch_int64_overflow", shape({"--batch", "9223372036854775808"}), 2, R"(--batch: .*out of range)"},
      {"run_batch_int64_underflow", shape({"--batch", "-9223372036854775809"}), 2, R"(--batch: .*out of range)"},
      {"run_seq_zero", {"run", "--kernel", "mha.naive.serial", "--heads", "2", "--seq", "0", "--head-dim", "8"}, 2,
       R"(--seq: 0 is out of range; expected)"},
      {"run_threads_negative", run({"--threads=-1"}), 2, R"(--threads: -1 is out of range)"},
      {"run_seed_negative", run({"--seed=-5"}), 2, R"(--seed: -5 is out of range)"},
      {"run_min_time_nan", run({"--min-time", "nan"}), 2, "--min-time: " + kNum},
      {"run_min_time_inf", run({"--min-time", "inf"}), 2, "--min-time: " + kNum},
      {"run_min_time_1e99", run({"--min-time", "1e99"}), 2, R"(--min-time: 1e99 is out of range; expected)"},
      {"run_max_reps_zero", run({"--max-reps", "0"}), 2, R"(--max-reps: 0 is out of range)"},
      {"run_warmup_negative", run({"--warmup=-1"}), 2, R"(--warmup: -1 is out of range)"},
      // --- run: problem strings ---
      {"run_problem_empty", {"run", "--kernel", "mha.naive.serial", "--problem", ""}, 2, R"(--problem: empty item: no value given; give one)"},
      {"run_problem_duplicate_field", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_d8_d16"}, 2,
       R"(--problem: .*'d16' sets head_dim a second time; expected .*e\.g\. b)"},
      {"run_problem_zero_batch", {"run", "--kernel", "mha.naive.serial", "--problem", "b0_h1_sq8_d8"}, 2,
       R"(batch.*at least 1|batch.*>= 1)"},
      {"run_problem_overflow", {"run", "--kernel", "mha.naive.serial", "--problem", "b99999999999999999999_h1_sq8_d8"}, 2,
       R"(--problem.*99999999999999999999)"},
      {"run_problem_space", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1 _sq8_d8"}, 2, R"(--problem)"},
      {"run_problem_list_empty_item", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_d8,,b2_h1_sq8_d8"},
       2, R"(--problem: empty item)"},
      // --- run: contradictions ---
      {"run_problem_and_seq", run({"--seq", "16"}), 2, R"(--problem and .*both given)"},
      {"run_inputs_and_kv_lengths", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_d8_padding",
                                     "--inputs", "in", "--kv-lengths", "3"},
       2, R"(--kv-lengths and --inputs both given: put the lengths in lengths.npy)", tensors("in", {})},
      {"run_inputs_two_problems", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_d8,b1_h1_sq9_d8",
                                   "--inputs", "in"},
       2, R"(--inputs and --save-output need exactly one problem)", tensors("in", {})},
      // --- run: output paths ---
      {"run_out_under_a_file", run({"--out", "r.jsonl/x.jsonl"}), 2, R"(r.jsonl/x.jsonl.*Not a directory.*choose another --out)",
       {results("r.jsonl")}},
      // /proc/version opens for writing as root; the write fails after measuring (nothing measured is lost: it
      // is one case), as on a disk that fills up during a run.
      after_output({"run_out_is_proc_file", run_on({"--out", "/proc/version"}), 2, R"(/proc/version.*rerun with another --out)"}),
      after_output({"run_out_dev_full", run_on({"--out", "/dev/full"}), 2, R"(/dev/full.*No space left.*free disk space)"}),
      // The record is cut short by the size limit: the file must keep exactly the records it had.
      after_output({"run_out_file_size_limit", run_on({"--out", "r.jsonl"}), 2, R"(r.jsonl.*File too large.*size limit)",
                    {results("r.jsonl")}, Stdout::file, [] { return rlim_t(record().size() + 100); }}),
      {"run_out_existing_then_contradiction", run({"--out", "r.jsonl", "--heads", "2"}), 2, R"(--problem and --heads both given)",
       {results("r.jsonl")}},
      {"run_save_output_under_a_file", run({"--save-output", "r.jsonl/out"}), 2,
       R"(--save-output.*r.jsonl/out.*Not a directory.*choose another --save-output)",
       {results("r.jsonl")}},
      {"run_machine_missing", run({"--machine", "nope.json"}), 2, R"(nope.json.*calibrate)"},
      {"run_machine_not_json", run({"--machine", "m.json"}), 2, R"(m.json.*not valid JSON.*calibrate)",
       {text("m.json", "peak = fast\n")}},
      // The default profile is optional: a bad one is a note and the run goes on without % of peak.
      {"run_machine_from_env_wrong_schema", run_on({}), 0, R"(^note: .*m.json: machine profile: kind is missing.*calibrate)",
       {text("m.json", "{\"cores\": \"two\"}\n")}, Stdout::file, nullptr, {"ATTNBENCH_MACHINE_PROFILE=m.json"}},
      // --- run: .npy inputs ---
      {"run_npy_zip_archive", run_on({"--inputs", "in"}), 2, R"(q.npy: is a zip archive.*np.save)",
       tensors("in", {{"q", [] { return std::string("PK\x03\x04 this is a zip file, not an array"); }}})},
      {"run_npy_bad_magic", run_on({"--inputs", "in"}), 2, R"(k.npy: .*np.save)",
       tensors("in", {{"k", [] { return std::string("GIF89a, not an array at all"); }}})},
      {"run_npy_bad_header", run_on({"--inputs", "in"}), 2, R"(k.npy.*header)",
       tensors("in", {{"k", [] {
                         std::string n = good_npy();
                         n.replace(n.find("'descr'"), 7, "'dscr' ");
                         return n;
                       }}})},
      {"run_npy_wrong_dtype", run_on({"--inputs", "in"}), 2, R"(v.npy.*float64.*float32)",
       tensors("in", {{"v", [] { return npy("<f8", kShape, 512); }}})},
      {"run_npy_big_endian", run_on({"--inputs", "in"}), 2, R"(q.npy.*big-endian)",
       tensors("in", {{"q", [] { return npy(">f4", kShape, 256); }}})},
      {"run_npy_wrong_shape", run_on({"--inputs", "in"}), 2, R"(k.npy: shape \[1, 8, 8\] does not match .*\[1, 8, 1, 8\].*reshape)",
       tensors("in", {{"k", [] { return npy("<f4", "(1, 8, 8)", 256); }}})},
      {"run_npy_fortran_order", run_on({"--inputs", "in"}), 2, R"(v.npy.*Fortran)",
       tensors("in", {{"v", [] { return npy("<f4", kShape, 256, "True"); }}})},
      {"run_npy_truncated_data", run_on({"--inputs", "in"}), 2, R"(q.npy.*(truncated|short))",
       tensors("in", {{"q", [] { return npy("<f4", kShape, 100); }}})},
      {"run_npy_empty_file", run_on({"--inputs", "in"}), 2, R"(k.npy)", tensors("in", {{"k", [] { return std::string(); }}})},
      {"run_npy_missing", run_on({"--inputs", "in"}), 2, R"(v.npy: required input 'v' is missing.*np.save)",
       tensors("in", {{"v", nullptr}})},
      {"run_npy_trailing_data", run_on({"--inputs", "in"}), 2, R"(q.npy: 44 bytes of trailing data)",
       tensors("in", {{"q", [] { return npy("<f4", kShape, 300); }}})},
      {"run_npy_inputs_is_a_file", run_on({"--inputs", "r.jsonl"}), 2, R"(r.jsonl.*directory)", {results("r.jsonl")}},
      {"run_npy_nan_values", run_on({"--inputs", "in", "--check"}), 2, R"(tensor 'q' holds a non-finite value \(nan\).*inputs must be finite)",
       tensors("in", {{"q", [] {
                         std::string n = npy("<f4", kShape, 256);
                         const float nan = std::numeric_limits<float>::quiet_NaN();
                         std::memcpy(&n[n.size() - 4], &nan, 4);
                         return n;
                       }}})},
      {"run_npy_lengths_out_of_range", {"run", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_d8_padding",
                                        "--inputs", "in", "--min-time", "0", "--min-reps", "2", "--warmup", "0"},
       2, R"(lengths\[0\] = 9 is outside \[0, seq_kv = 8\])", tensors("in", {{"lengths", [] {
                                              std::string n = npy("<i4", "(1,)", 0);
                                              const std::int32_t nine = 9;
                                              return n + std::string(reinterpret_cast<const char*>(&nine), 4);
                                            }}})},

      // --- sweep ---
      {"sweep_range_zero_factor", axes({"--heads", "1", "--head-dim", "8", "--seq", "256:16384:*0"}), 2, R"(--seq.*256:16384:\*0)"},
      {"sweep_range_two_parts", axes({"--heads", "1", "--head-dim", "8", "--seq", "64:8"}), 2, R"(--seq: range '64:8' needs three parts.*e\.g\.)"},
      {"sweep_range_backwards", axes({"--heads", "1", "--head-dim", "8", "--seq", "64:8:*2"}), 2, R"(start 64 is above the stop 8; write the smaller)"},
      {"sweep_range_zero_step", axes({"--heads", "1", "--head-dim", "8", "--seq", "8:64:+0"}), 2, R"(--seq.*8:64:\+0)"},
      {"sweep_range_not_numbers", axes({"--heads", "1", "--head-dim", "8", "--seq", "a:b"}), 2, R"(--seq.*a:b)"},
      {"sweep_range_open_end", axes({"--heads", "1", "--head-dim", "8", "--seq", "8:"}), 2, R"(--seq.*8:)"},
      {"sweep_list_empty_item", axes({"--heads", "1,,2", "--head-dim", "8", "--seq", "8"}), 2, R"(--heads.*empty)"},
      {"sweep_value_overflow", axes({"--heads", "1", "--head-dim", "8", "--seq", "99999999999999999999"}), 2,
       R"(--seq.*99999999999999999999)"},
      {"sweep_zip_unequal", axes({"--heads", "1", "--head-dim", "8", "--seq", "8,16", "--batch", "1,2,3", "--zip", "seq,batch"}),
       2, R"(--zip.*(equal|same).*)"},
      {"sweep_zip_unknown_axis", axes({"--heads", "1", "--head-dim", "8", "--seq", "8,16", "--zip", "seq,sequence"}), 2,
       R"(--zip.*sequence)"},
      {"sweep_misspelled_preset", {"sweep", "--preset", "quik", "--dry-run"}, 2, R"(preset 'quik'.*did you mean 'quick')"},
      {"sweep_misspelled_kernel", sweep({"--kernel", "mha.naive.serail"}), 2, R"(mha.naive.serail.*mha.naive.serial)"},
      {"sweep_config_missing", axes({"--config", "nope.cfg"}), 2, R"(nope.cfg)"},
      {"sweep_config_malformed", axes({"--config", "s.cfg"}), 2, R"(s.cfg.*)", {text("s.cfg", "seq 8\nheads = 1\n")}},
      {"sweep_config_unknown_key", axes({"--config", "s.cfg"}), 2, R"(s.cfg.*hedas.*did you mean)",
       {text("s.cfg", "hedas = 1\nseq = 8\nhead-dim = 8\n")}},
      {"sweep_timeout_nan", sweep({"--timeout", "nan"}), 2, "--timeout: " + kNum},
      {"sweep_timeout_negative", sweep({"--timeout=-1"}), 2, R"(--timeout: -1 is out of range)"},
      {"sweep_threads_zero", sweep({"--threads", "0"}), 2, R"(--threads.*0)"},
      {"sweep_mask_misspelled", axes({"--heads", "1", "--head-dim", "8", "--seq", "8", "--mask", "casual"}), 2,
       R"(casual.*causal)"},
      {"sweep_out_under_a_file", {"sweep", "--kernel", "mha.naive.serial", "--problem", kNpyProblem, "--out", "r.jsonl/x.jsonl"},
       2, R"(--out.*Not a directory)", {results("r.jsonl")}},
      {"sweep_out_is_a_directory", {"sweep", "--kernel", "mha.naive.serial", "--problem", kNpyProblem, "--out", "."}, 2,
       R"(--out.*directory.*file name)"},
      {"sweep_resume_future_schema", sweep({"--out", "r.jsonl", "--resume"}), 2,
       R"(r.jsonl: record 2 has schema_version 2 but this attnbench writes 1.*resume with that attnbench, or give a new --out)",
       {lazy("r.jsonl", [] { return record() + record_with("schema_version", "2"); })}},
      // Lines resume can pass over (they do not count as done; their cases run again): a note, exit 0.
      {"sweep_resume_status_number", sweep({"--out", "r.jsonl", "--resume"}), 0,
       R"(^note: r.jsonl: record 1 has status 7, not ok, skipped or failed; not counted as done)",
       {lazy("r.jsonl", [] { return record_with("status", "7"); })}},
      {"sweep_resume_not_json", sweep({"--out", "r.jsonl", "--resume"}), 0, R"(^note: r.jsonl:2: not valid JSON.*skipped)",
       {lazy("r.jsonl", [] { return record() + "<html>this is not a results file</html>\n"; })}},
      {"sweep_resume_torn_last_line", sweep({"--out", "r.jsonl", "--resume"}), 0, R"(^note: r.jsonl:2: torn last line.*skipped)",
       {lazy("r.jsonl", [] { return record() + record().substr(0, 40); })}},
      {"sweep_resume_existing_then_bad_range",
       axes({"--heads", "1", "--head-dim", "8", "--seq", "64:8:*2", "--out", "r.jsonl", "--resume"}), 2, R"(--seq.*start 64 is above)",
       {results("r.jsonl")}},
      after_output({"sweep_out_dev_full", {"sweep", "--kernel", "mha.naive.serial", "--problem", kNpyProblem, "--no-check",
                                           "--min-time", "0", "--min-reps", "2", "--warmup", "0", "--out", "/dev/full"},
                    2, R"(/dev/full.*No space left.*free disk space)"}),

      // --- profile ---
      {"profile_missing_kernel", {"profile", "--problem", kNpyProblem}, 2, R"(--kernel.*)"},
      {"profile_misspelled_kernel", std::vector<std::string>{"profile", "--kernel", "mha.blockd.omp", "--problem", kNpyProblem}, 2, R"(mha.blockd.omp.*mha.blocked.omp)"},
      {"profile_two_kernels", std::vector<std::string>{"profile", "--kernel", "all", "--problem", kNpyProblem}, 2, R"(takes one kernel id.*use 'attnbench run')"},
      {"profile_bad_problem", {"profile", "--kernel", "mha.naive.serial", "--problem", "b1_h1_sq8_x8"}, 2, R"(--problem.*x8)"},
      {"profile_threads_text", profile({"--threads", "many"}), 2, "--threads: " + kInt},
      {"profile_positional", profile({"extra"}), 2, R"(takes no positional arguments)"},
      {"profile_trace_under_a_file", profile({"--trace", "r.jsonl/t.json"}), 2, R"(--trace.*r.jsonl/t.json)",
       {results("r.jsonl")}},
      after_output({"profile_trace_disk_full",
                    profile({"--trace", "/dev/full", "--min-time", "0", "--min-reps", "2", "--warmup", "0", "--profile-reps", "1"}),
                    2, R"(--trace.*/dev/full.*No space left)"}),
      after_output({"profile_out_is_proc_file",
                    profile({"--out", "/proc/version", "--min-time", "0", "--min-reps", "2", "--warmup", "0", "--profile-reps", "1"}),
                    2, R"(/proc/version.*rerun with another --out)"}),

      // --- calibrate ---
      {"calibrate_threads_zero", {"calibrate", "--quick", "--threads", "0", "--out", "m.json"}, 2, R"(--threads: 0 is out of range)"},
      {"calibrate_threads_empty_item", {"calibrate", "--quick", "--threads", "1,,2", "--out", "m.json"}, 2, R"(--threads: empty item)"},
      {"calibrate_max_message_tiny", {"calibrate", "--quick", "--max-message", "1", "--out", "m.json"}, 2, R"(--max-message: 1 is out of range)"},
      {"calibrate_max_message_1e99", {"calibrate", "--quick", "--max-message", "1e99", "--out", "m.json"}, 2, "--max-message: " + kInt},
      {"calibrate_repetitions_zero", {"calibrate", "--quick", "--repetitions", "0", "--out", "m.json"}, 2, R"(--repetitions: 0 is out of range)"},
      {"calibrate_out_under_a_file", {"calibrate", "--quick", "--out", "r.jsonl/m.json"}, 2,
       R"(--out: cannot write the profile to 'r.jsonl/m.json': Not a directory; choose a writable --out)",
       {results("r.jsonl")}},
      {"calibrate_out_is_a_directory", {"calibrate", "--quick", "--out", "."}, 2, R"(--out: .*'\.': it is a directory; choose a writable --out FILE)"},
      {"calibrate_misspelled_option", {"calibrate", "--quikc"}, 2, R"(did you mean '--quick')"},

      // --- project ---
      {"project_ranks_zero", project({"--ranks", "0"}), 2, R"(--ranks: 0 is out of range)"},
      {"project_ranks_empty", project({"--ranks", ""}), 2, R"(--ranks: empty item: no value given; give one)"},
      {"project_misspelled_network", project({"--network", "100GBE"}), 2, R"(--network.*100GbE)"},
      {"project_network_and_link", project({"--network", "100GbE", "--alpha-us", "1", "--bandwidth-gbps", "100"}), 2,
       R"(both given: choose one)"},
      {"project_link_half_given", project({"--alpha-us", "1"}), 2, R"(needs both --alpha-us and --bandwidth-gbps)"},
      {"project_efficiency_above_one", project({"--alpha-us", "1", "--bandwidth-gbps", "100", "--efficiency", "2"}), 2,
       R"(--efficiency: 2 is out of range)"},
      {"project_gflops_nan", {"project", "--problem", "b1_h16_sq4096_d64", "--gflops", "nan"}, 2, "--gflops: " + kNum},
      {"project_gflops_and_compute_from", project({"--compute-from", "r.jsonl"}), 2, R"(both given: choose one)",
       {results("r.jsonl")}},
      {"project_compute_from_not_json", {"project", "--problem", "b1_h16_sq4096_d64", "--compute-from", "r.jsonl"}, 2,
       R"(--compute-from.*r.jsonl)", {text("r.jsonl", "garbage\n")}},
      {"project_machine_wrong_schema", project({"--machine", "m.json"}), 2, R"(m.json: machine profile: kind is missing.*attnbench calibrate)",
       {text("m.json", "{\"schema_version\": 99}\n")}},
      {"project_machine_future_version", project({"--machine", "m.json"}), 2,
       R"(m.json: machine profile: profile_version is 99 but this attnbench reads version 1.*attnbench calibrate)",
       {text("m.json", "{\"kind\": \"machine_profile\", \"profile_version\": 99}\n")}},
      {"project_strategy_misspelled", project({"--strategy", "rign"}), 2, R"(rign.*ring)"},
      {"project_tolerance_negative", project({"--validate", "r.jsonl", "--tolerance=-1"}), 2, R"(--tolerance)",
       {results("r.jsonl")}},
      {"project_out_under_a_file", project({"--out", "r.jsonl/p.jsonl"}), 2, R"(--out.*Not a directory)", {results("r.jsonl")}},

      // --- report ---
      {"report_no_files", {"report", "-o", "rep"}, 2, R"(name at least one results file)"},
      {"report_no_out", {"report", "r.jsonl"}, 2, R"(missing -o DIR)", {results("r.jsonl")}},
      {"report_missing_file", {"report", "nope.jsonl", "-o", "rep"}, 2, R"(nope.jsonl.*)"},
      {"report_empty_file", {"report", "e.jsonl", "-o", "rep"}, 2, R"(e.jsonl.*)", {text("e.jsonl", "")}},
      {"report_not_json", {"report", "g.jsonl", "-o", "rep"}, 2, R"(g.jsonl.*)", {text("g.jsonl", "a,b,c\n1,2,3\n")}},
      {"report_future_schema", {"report", "r.jsonl", "-o", "rep"}, 2, R"(schema_version 2 is not supported)",
       {lazy("r.jsonl", [] { return record_with("schema_version", "2"); })}},
      {"report_wrong_schema", {"report", "r.jsonl", "-o", "rep"}, 2, R"(r.jsonl.*)",
       {text("r.jsonl", "{\"schema_version\": 1, \"kernel\": 7}\n")}},
      {"report_only_torn_line", {"report", "r.jsonl", "-o", "rep"}, 2, R"(r.jsonl.*)",
       {lazy("r.jsonl", [] { return record().substr(0, record().size() / 2); })}},
      {"report_out_under_a_file", {"report", "r.jsonl", "-o", "r.jsonl/rep"}, 2, R"(r.jsonl/rep.*choose another -o)",
       {results("r.jsonl")}},
      {"report_out_is_proc", {"report", "r.jsonl", "-o", "/proc/version"}, 2, R"(/proc/version.*choose another -o)",
       {results("r.jsonl")}},
      {"report_machine_missing", {"report", "r.jsonl", "-o", "rep", "--machine", "nope.json"}, 2, R"(nope.json)",
       {results("r.jsonl")}},
      {"report_torn_last_line", {"report", "r.jsonl", "-o", "rep"}, 0, R"(r.jsonl:2: .*torn.*passed over)",
       {lazy("r.jsonl", [] { return record() + record().substr(0, 40); })}},
      {"report_gbench_json", {"report", "g.json", "-o", "rep"}, 2, R"(g.json.*Google Benchmark)",
       {text("g.json", gbench(R"([{"name": "BM_x", "run_type": "iteration", "real_time": 1, "time_unit": "ns"}])"))}},
      // Figures written before the disk filled stay (whole files); no cut-off file, no .tmp is left.
      after_output({"report_disk_full", {"report", "r.jsonl", "-o", "rep"}, 2, R"(cannot write.*File too large.*choose another -o)",
                    {results("r.jsonl")}, Stdout::file, [] { return rlim_t(1024); }}),

      // --- compare ---
      {"compare_one_file", compare({"r.jsonl"}), 2, R"(compare needs BASE and NEW)", {results("r.jsonl")}},
      {"compare_future_schema", compare({"r.jsonl", "n.jsonl"}), 2, R"(n.jsonl.*schema_version 2.*use the attnbench that wrote it)",
       {results("r.jsonl"), lazy("n.jsonl", [] { return record_with("schema_version", "2"); })}},
      {"compare_wrong_schema", compare({"r.jsonl", "n.jsonl"}), 2, R"(n.jsonl.*no schema_version)",
       {results("r.jsonl"), text("n.jsonl", "{\"name\": \"x\", \"time\": 3}\n")}},
      {"compare_empty_file", compare({"r.jsonl", "n.jsonl"}), 2, R"(n.jsonl: is empty)", {results("r.jsonl"), text("n.jsonl", "\n")}},
      {"compare_gbench_not_an_object", compare({"g.json", "g.json"}), 2, R"(g.json)", {text("g.json", "[1, 2, 3]\n")}},
      {"compare_gbench_benchmarks_not_array", compare({"g.json", "g.json"}), 2, R"(g.json.*benchmarks)",
       {text("g.json", gbench("{\"BM_x\": 1}"))}},
      {"compare_gbench_numbers_as_strings", compare({"g.json", "g.json"}), 2, R"(g.json.*real_time)",
       {text("g.json", gbench(R"([{"name": "BM_x", "run_type": "iteration", "real_time": "12.5", "time_unit": "ns"}])"))}},
      {"compare_gbench_no_benchmarks", compare({"g.json", "g.json"}), 2, R"(g.json)", {text("g.json", gbench("[]"))}},
      {"compare_gbench_flag_as_string", compare({"g.json", "g.json"}), 2, R"(g.json: benchmark 1.*error_occurred)",
       {text("g.json", gbench(R"([{"name": "BM_x", "run_type": "iteration", "real_time": 1, "time_unit": "ns",
                                   "error_occurred": "false"}])"))}},
      {"compare_gbench_run_type_number", compare({"g.json", "g.json"}), 2, R"(g.json: benchmark 1.*run_type)",
       {text("g.json", gbench(R"([{"name": "BM_x", "run_type": 1, "real_time": 1, "time_unit": "ns"}])"))}},
      {"compare_reason_not_text", compare({"r.jsonl", "n.jsonl"}), 2, R"(n.jsonl: record 1.*reason)",
       {results("r.jsonl"), lazy("n.jsonl", [] { return record_with("reason", "5"); })}},
      {"compare_check_passed_not_bool", compare({"r.jsonl", "n.jsonl"}), 2, R"(n.jsonl: record 1.*passed)",
       {results("r.jsonl"), lazy("n.jsonl", [] { return record_with("check", R"({"passed": "yes"})"); })}},
      {"compare_threshold_nan", compare({"r.jsonl", "r.jsonl", "--threshold", "nan"}), 2, "--threshold: " + kNum, {results("r.jsonl")}},
      {"compare_threshold_negative", compare({"r.jsonl", "r.jsonl", "--threshold=-5%"}), 2, R"(--threshold: -5 is out of range)",
       {results("r.jsonl")}},
      {"compare_alpha_zero", compare({"r.jsonl", "r.jsonl", "--alpha", "0"}), 2, R"(--alpha: 0 is out of range)", {results("r.jsonl")}},
      {"compare_format_misspelled", compare({"r.jsonl", "r.jsonl", "--format", "mark"}), 2, R"(--format: 'mark' is not console, md or json)",
       {results("r.jsonl")}},
      {"compare_torn_last_line", compare({"r.jsonl", "n.jsonl"}), 0, R"(n.jsonl:2: torn last line.*skipped)",
       {results("r.jsonl"), lazy("n.jsonl", [] { return record() + record().substr(0, 40); })}},
      {"compare_stdout_full", compare({"r.jsonl", "r.jsonl"}), 2, R"(standard output.*No space left)", {results("r.jsonl")},
       Stdout::dev_full},
  };
}

}  // namespace
