// The append-only JSON Lines results store: appending, torn-line repair, early and clear failures.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "results_file.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_raw(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The ResultsFileError message thrown by `f`, or "" if nothing was thrown.
template <typename F>
std::string error_of(F&& f) {
  return test_support::thrown_message<ResultsFileError>(std::forward<F>(f));
}

/// Runs `body` in a forked child (so limits it sets stay there) and returns its exit code.
template <typename F>
int in_child(F&& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // The child must never return into GoogleTest: that would run the remaining tests twice.
    int code = 98;
    try {
      code = body();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/// Every test gets its own fresh temporary directory.
class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "attnbench-results-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(ResultsFileTest, AppendTwoRecordsAndReadThemBack) {
  const fs::path p = dir_ / "r.jsonl";
  {
    ResultsFile f(p);
    EXPECT_EQ(f.path(), p);
    f.append({{"kernel", "a"}, {"n", 1}});
    f.append({{"kernel", "b"}, {"n", 2}});
  }
  EXPECT_EQ(slurp(p), "{\"kernel\":\"a\",\"n\":1}\n{\"kernel\":\"b\",\"n\":2}\n");
  std::vector<std::string> warnings;
  const auto records = read_results(p, &warnings);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["kernel"], "a");
  EXPECT_EQ(records[1]["n"], 2);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(ResultsFileTest, ConstructorCreatesTheFileBeforeAnyAppend) {
  const fs::path p = dir_ / "new.jsonl";
  ResultsFile f(p);
  ASSERT_TRUE(fs::exists(p));
  EXPECT_EQ(fs::file_size(p), 0u);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0022, 0u);       // never group/world writable
  EXPECT_EQ(st.st_mode & 0600, 0600u);    // owner reads and writes
}

TEST_F(ResultsFileTest, ReopeningAppendsAndNeverTruncates) {
  const fs::path p = dir_ / "r.jsonl";
  ResultsFile(p).append({{"run", 1}});
  ResultsFile(p).append({{"run", 2}});
  EXPECT_EQ(slurp(p), "{\"run\":1}\n{\"run\":2}\n");
}

TEST_F(ResultsFileTest, TornLastLineGetsANewLineBeforeTheNextRecord) {
  const fs::path p = dir_ / "r.jsonl";
  write_raw(p, "{\"run\":1}\n{\"run\":2,\"ti");  // killed mid-write
  {
    ResultsFile f(p);
    f.append({{"run", 3}});
    f.append({{"run", 4}});  // the repair happens once
  }
  EXPECT_EQ(slurp(p), "{\"run\":1}\n{\"run\":2,\"ti\n{\"run\":3}\n{\"run\":4}\n");
  std::vector<std::string> warnings;
  const auto records = read_results(p, &warnings);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1]["run"], 3);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], p.string() + ":2:")) << warnings[0];
}

TEST_F(ResultsFileTest, MissingDirectoryFailsAtConstructionNamingPathAndFix) {
  const fs::path p = dir_ / "no-such-dir" / "r.jsonl";
  const std::string msg = error_of([&] { ResultsFile f(p); });
  EXPECT_TRUE(contains(msg, p.string())) << msg;
  EXPECT_TRUE(contains(msg, "No such file or directory")) << msg;
  EXPECT_TRUE(contains(msg, "directory does not exist")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(ResultsFileTest, DirectoryAsPathFailsNamingPath) {
  const std::string msg = error_of([&] { ResultsFile f(dir_); });
  EXPECT_TRUE(contains(msg, dir_.string())) << msg;
  EXPECT_TRUE(contains(msg, "directory")) << msg;
}

TEST_F(ResultsFileTest, UnwritableDirectoryFailsNamingPath) {
  const fs::path locked = dir_ / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  const fs::path p = locked / "r.jsonl";
  // root ignores permissions, so a root test drops to "nobody" in a child first.
  const int code = in_child([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
    const std::string msg = error_of([&] { ResultsFile f(p); });
    return contains(msg, p.string()) && contains(msg, "Permission denied") && contains(msg, "--out") ? 0 : 1;
  });
  fs::permissions(locked, fs::perms::owner_all);
  if (code == 77) GTEST_SKIP() << "running as root and cannot drop privileges";
  EXPECT_EQ(code, 0) << "no ResultsFileError naming the path and 'Permission denied'";
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(ResultsFileTest, FullDeviceGivesResultsFileError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  ResultsFile f("/dev/full");
  const std::string msg = error_of([&] { f.append({{"run", 1}}); });
  EXPECT_TRUE(contains(msg, "/dev/full")) << msg;
  EXPECT_TRUE(contains(msg, "No space left on device")) << msg;
}

TEST_F(ResultsFileTest, FileSizeLimitMidRecordGivesErrorAndLeavesTheFileAsItWas) {
  const fs::path p = dir_ / "r.jsonl";
  const int code = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write(2) instead of being killed
    ResultsFile f(p);
    f.append({{"run", 1}});
    const std::string before = slurp(p);
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    rlimit tight = old;
    tight.rlim_cur = fs::file_size(p) + 5;  // room for 5 bytes of the next record: a short write
    if (::setrlimit(RLIMIT_FSIZE, &tight) != 0) return 2;
    const std::string msg = error_of([&] { f.append({{"run", 2}, {"padding", std::string(100, 'x')}}); });
    if (!contains(msg, p.string()) || !contains(msg, "File too large")) return 3;
    if (slurp(p) != before) return 5;  // the 5 bytes written are cut off again: no torn line
    if (::setrlimit(RLIMIT_FSIZE, &old) != 0) return 4;
    f.append({{"run", 3}});
    return 0;
  });
  ASSERT_EQ(code, 0) << "2: setrlimit, 3: wrong or no error, 4: restoring the limit, 5: a torn line was left, "
                        "99: an exception";
  std::vector<std::string> warnings;
  const auto records = read_results(p, &warnings);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["run"], 1);
  EXPECT_EQ(records[1]["run"], 3);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

TEST_F(ResultsFileTest, InvalidUtf8IsReplacedNotThrown) {
  const fs::path p = dir_ / "r.jsonl";
  ResultsFile f(p);
  EXPECT_NO_THROW(f.append({{"cpu", std::string("bad \xff byte")}}));
  EXPECT_EQ(read_results(p, nullptr).size(), 1u);
}

TEST_F(ResultsFileTest, MovedFileKeepsAppending) {
  const fs::path p = dir_ / "r.jsonl";
  ResultsFile a(p);
  ResultsFile b(std::move(a));
  b.append({{"run", 1}});
  EXPECT_EQ(read_results(p, nullptr).size(), 1u);
}

TEST_F(ResultsFileTest, ReadResultsSkipsBadLinesWithNumberedWarnings) {
  const fs::path p = dir_ / "r.jsonl";
  write_raw(p,
            "{\"run\":1}\n"      // 1 ok
            "\n"                 // 2 empty
            "not json\n"         // 3 garbage
            "[1,2]\n"            // 4 JSON but not a record
            "   \n"              // 5 blank
            "{\"run\":2}\r\n"    // 6 ok (CRLF tolerated)
            "{\"run\":3,\"x\"");  // 7 torn, no final newline
  std::vector<std::string> warnings;
  const auto records = read_results(p, &warnings);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["run"], 1);
  EXPECT_EQ(records[1]["run"], 2);
  ASSERT_EQ(warnings.size(), 5u);
  const int expected_lines[] = {2, 3, 4, 5, 7};
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    EXPECT_TRUE(contains(warnings[i], p.string() + ":" + std::to_string(expected_lines[i]) + ":")) << warnings[i];
  }
  EXPECT_TRUE(contains(warnings[0], "empty")) << warnings[0];
  EXPECT_TRUE(contains(warnings[1], "not valid JSON")) << warnings[1];
  EXPECT_TRUE(contains(warnings[2], "not an object")) << warnings[2];
  EXPECT_TRUE(contains(warnings[4], "torn last line")) << warnings[4];
  EXPECT_EQ(read_results(p, nullptr).size(), 2u);  // warnings are optional
}

TEST_F(ResultsFileTest, ReadResultsOfAMissingFileNamesThePath) {
  const fs::path p = dir_ / "missing.jsonl";
  const std::string msg = error_of([&] { read_results(p, nullptr); });
  EXPECT_TRUE(contains(msg, p.string())) << msg;
  EXPECT_TRUE(contains(msg, "No such file")) << msg;
}

}  // namespace
}  // namespace attnbench
