// scripts/regression-check.sh end to end, on a throw-away git repository (in a path with every character
// a shell could misread) whose "build" produces a stand-in attnbench: it records fixed samples scaled
// by the commit's `scale` file and hands `compare` to the real program. This exercises the worktrees,
// the release-preset build, the ABBA rounds, the files and the exit status in seconds; the real build
// is the same commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::CommandResult;
using test_support::shell_quote;
using test_support::slurp;
using test_support::TempDir;
using ::testing::HasSubstr;

const std::string kScript = std::string(ATTNBENCH_SOURCE_DIR) + "/scripts/regression-check.sh";

// A name with white space, quotes, $, backticks, $(...), ;, &, |, glob characters, a backslash, a
// newline and non-ASCII; its commands leave a CANARY_* file if a shell ever runs them. The other
// scripts get the same in tests/cluster/test_hostile_paths.sh.
constexpr const char* kHostile =
    "sp ace 'sq' \"dq\" $HOME `touch CANARY_bt` $(touch CANARY_sub) ;touch CANARY_semi & | * ? [ab] \\ %s\nnl \xc3\xbc";

// The stand-in: `sweep`/`run ... --out FILE` append one record of 8 samples (1.00..1.07 ms times the
// commit's scale) and log "<program path> <arguments>" to $FAKE_LOG; `compare` runs the real attnbench.
constexpr const char* kFakeAttnbench = R"(#!/bin/sh
if [ "$1" = compare ]; then shift; exec "$REAL_ATTNBENCH" compare "$@"; fi
echo "$0 $*" >> "$FAKE_LOG"
out=""
while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
scale=$(cat "$(dirname "$0")/scale")
samples=$(awk -v s="$scale" 'BEGIN { for (i = 0; i < 8; i++) printf "%s%.6g", (i ? "," : ""), (1 + i / 100) * s / 1000 }')
printf '{"schema_version":1,"kernel":"mha.fake.serial","problem_str":"b1_h2_sq8_d4","threads":1,"ranks":1,"status":"ok","reason":"","time":{"samples_s":[%s]}}\n' "$samples" >> "$out"
)";

constexpr const char* kFakeCmake = R"(cmake_minimum_required(VERSION 3.25)
project(fake NONE)
add_custom_target(attnbench
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/attnbench.sh ${CMAKE_BINARY_DIR}/attnbench
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/scale ${CMAKE_BINARY_DIR}/scale)
)";

constexpr const char* kFakePresets = R"({"version": 6,
 "configurePresets": [{"name": "release", "binaryDir": "${sourceDir}/build/release"}],
 "buildPresets": [{"name": "release", "configurePreset": "release"}]})";

class RegressionScript : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / kHostile;
    std::filesystem::create_directories(repo_);
    std::ofstream(repo_ / "attnbench.sh") << kFakeAttnbench;
    std::filesystem::permissions(repo_ / "attnbench.sh", std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
    std::ofstream(repo_ / "CMakeLists.txt") << kFakeCmake;
    std::ofstream(repo_ / "CMakePresets.json") << kFakePresets;
    std::ofstream(repo_ / ".gitignore") << "build/\n";
    git("init -q");
    commit("1.0", "v1");
    commit("1.5", "slow");  // 50% slower
    commit("1.0", "fixed");
  }
  void commit(const std::string& scale, const std::string& tag) {
    std::ofstream(repo_ / "scale") << scale << "\n";
    git("add -A && git -c user.name=t -c user.email=t@t commit -q -m " + tag + " && git tag " + tag);
  }
  void git(const std::string& args) {
    const CommandResult r = test_support::run_command("cd " + shell_quote(repo_.string()) + " && git " + args, dir_.path());
    ASSERT_EQ(r.code, 0) << args << "\n" << r.err;
  }
  // Runs the script copied into the fake repository (it finds the repository from its own path), in
  // the temporary directory (where relative paths lead).
  CommandResult check(const std::string& args) {
    std::filesystem::create_directories(repo_ / "scripts");
    std::filesystem::copy_file(kScript, repo_ / "scripts/regression-check.sh", std::filesystem::copy_options::overwrite_existing);
    const std::string env = "REAL_ATTNBENCH=" + shell_quote(ATTNBENCH_EXE) + " FAKE_LOG=" +
                            shell_quote((dir_ / "fake log.txt").string()) + " TMPDIR=" + shell_quote(dir_.path().string()) + " ";
    return test_support::run_command("cd " + shell_quote(dir_.path().string()) + " && " + env + "bash " +
                                         shell_quote((repo_ / "scripts/regression-check.sh").string()) + " " + args,
                                     dir_.path());
  }
  std::string out_dir(const std::string& name) { return shell_quote((dir_ / name).string()); }
  // No name was ever run as a command (it would have left a CANARY_* file in a working directory).
  void TearDown() override {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path()))
      EXPECT_NE(entry.path().filename().string().rfind("CANARY", 0), 0u) << entry.path();
  }

  TempDir dir_{"regression script"};
  std::filesystem::path repo_;
};

TEST_F(RegressionScript, RegressionExitsOneAfterInterleavedRounds) {
  const CommandResult r = check("v1 slow --rounds 3 --out-dir " + out_dir("out 1"));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("slower"));
  EXPECT_THAT(r.out, HasSubstr("24/24"));  // 3 rounds x 8 samples pooled per side
  // ABBA: base new, new base, base new; each run was `sweep --preset quick --out FILE`.
  std::istringstream log(slurp(dir_ / "fake log.txt"));
  std::vector<std::string> sides;
  for (std::string line; std::getline(log, line);) {
    sides.push_back(line.find("/base-") != std::string::npos ? "base" : "new");
    EXPECT_THAT(line, HasSubstr(" sweep --preset quick --out "));
  }
  EXPECT_EQ(sides, (std::vector<std::string>{"base", "new", "new", "base", "base", "new"}));
  for (const char* f : {"base.jsonl", "new.jsonl", "compare.txt", "compare.md", "compare.json", "logs/build-base.log"})
    EXPECT_TRUE(std::filesystem::exists(dir_ / "out 1" / f)) << f;
  EXPECT_THAT(slurp(dir_ / "out 1/compare.md"), HasSubstr("### attnbench compare: regression"));
  // The worktrees and builds are gone, and the repository lists no leftover worktree.
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename().string().rfind("attnbench-regression.", 0), std::string::npos) << entry.path();
  // (-z: the repository's path holds a newline.)
  const CommandResult worktrees =
      test_support::run_command("git -C " + shell_quote(repo_.string()) + " worktree list --porcelain -z", dir_.path());
  const std::string records = '\0' + worktrees.out;
  size_t listed = 0;
  for (size_t at = records.find(std::string("\0worktree ", 10)); at != std::string::npos;
       at = records.find(std::string("\0worktree ", 10), at + 1))
    ++listed;
  EXPECT_EQ(listed, 1u) << worktrees.out;
}

TEST_F(RegressionScript, NoChangeExitsZeroAndSameCommitBuildsOnce) {
  const CommandResult r = check("v1 fixed --rounds 2 --out-dir " + out_dir("out 2") + " -- run --kernel x");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(slurp(dir_ / "fake log.txt"), HasSubstr(" run --kernel x --out "));
  const CommandResult aa = check("v1 v1 --rounds 2 --out-dir " + out_dir("out 3"));
  EXPECT_EQ(aa.code, 0) << aa.out << aa.err;
  EXPECT_THAT(aa.err, HasSubstr("one build serves both (an A/A run)"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out 3/logs/build-new.log"));
}

TEST_F(RegressionScript, CompareOptionsPassThrough) {
  const CommandResult r = check("v1 slow --rounds 1 --threshold 60% --out-dir " + out_dir("out 4"));
  EXPECT_EQ(r.code, 0) << r.out << r.err;  // 50% slower is within a 60% threshold
}

TEST_F(RegressionScript, HostileRelativeOutDirGetsEveryFile) {
  const std::string name = std::string("-") + kHostile;  // relative, so it starts with '-'
  const CommandResult r = check("v1 slow --rounds 1 --threshold 60% --out-dir " + shell_quote(name));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"base.jsonl", "new.jsonl", "compare.txt", "compare.md", "compare.json", "logs/build-base.log",
                        "logs/build-new.log", "logs/base-round1.log", "load-before.txt"})
    EXPECT_TRUE(std::filesystem::exists(dir_ / name / f)) << f;
}

TEST_F(RegressionScript, BadInputExitsTwo) {
  EXPECT_EQ(check("v1").code, 2);
  const CommandResult bad_rev = check("v1 no-such-rev --out-dir " + out_dir("out 5"));
  EXPECT_EQ(bad_rev.code, 2);
  EXPECT_THAT(bad_rev.err, HasSubstr("new revision 'no-such-rev' is not a commit"));
  EXPECT_EQ(check("v1 slow --rounds zero").code, 2);
  EXPECT_EQ(check("v1 slow --bogus").code, 2);
  // A results directory that already holds results is never overwritten.
  ASSERT_EQ(check("v1 v1 --rounds 1 --out-dir " + out_dir("out 6")).code, 0);
  const CommandResult again = check("v1 v1 --rounds 1 --out-dir " + out_dir("out 6"));
  EXPECT_EQ(again.code, 2);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
}

TEST_F(RegressionScript, ABrokenBuildExitsTwoNamingTheLog) {
  std::ofstream(repo_ / "CMakeLists.txt", std::ios::app) << "message(FATAL_ERROR \"broken\")\n";
  git("-c user.name=t -c user.email=t@t commit -q -a -m broken");
  const CommandResult r = check("v1 HEAD --out-dir " + out_dir("out 7"));
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("new revision 'HEAD' does not build (see "));
  EXPECT_THAT(slurp(dir_ / "out 7/logs/build-new.log"), HasSubstr("broken"));
}

}  // namespace
}  // namespace attnbench
