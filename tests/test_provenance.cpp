// Provenance: every field the results contract names is present and plausible on this machine.
#include <gtest/gtest.h>

#include <cctype>

#include "build_info.hpp"
#include "provenance.hpp"

namespace attnbench {
namespace {

TEST(Provenance, HasEveryContractField) {
  const nlohmann::json p = provenance(3, 2);
  for (const char* key : {"version", "git_commit", "compiler", "flags", "build_type", "cpu", "cores", "host", "os",
                          "threads", "ranks", "time", "libraries", "cpu_flags"})
    EXPECT_TRUE(p.contains(key)) << key;
  EXPECT_EQ(p["threads"], 3);
  EXPECT_EQ(p["ranks"], 2);
  EXPECT_EQ(p["version"], build_info().version);
  EXPECT_EQ(p["git_commit"], build_info().git_commit);
  for (const char* lib : {"boost", "tbb", "openmp", "mpi", "nlohmann_json"}) EXPECT_TRUE(p["libraries"].contains(lib)) << lib;
}

TEST(Provenance, TimeIsUtcIso8601) {
  const std::string t = provenance(1, 1)["time"].get<std::string>();
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";  // d: a digit
  ASSERT_EQ(t.size(), shape.size()) << t;
  for (std::size_t i = 0; i < t.size(); ++i)
    EXPECT_TRUE(shape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(t[i])) != 0 : t[i] == shape[i]) << t;
}

TEST(Provenance, DescribesThisBuildAndMachine) {
  const nlohmann::json p = provenance(1, 1);
  EXPECT_FALSE(p["compiler"].get<std::string>().empty());
  EXPECT_NE(p["flags"].get<std::string>().find("-W"), std::string::npos) << "the flags our targets are built with";
  if (!p["cores"].is_null()) {
    EXPECT_GE(p["cores"].get<int>(), 1);
  }
  EXPECT_FALSE(cpu_model().empty());
  // Printable text only: these fields end up in reports and terminals.
  for (const char* key : {"cpu", "host", "os"})
    for (char c : p[key].get<std::string>()) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << key;
}

}  // namespace
}  // namespace attnbench
