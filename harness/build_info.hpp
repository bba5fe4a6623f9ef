#pragma once
// Facts about this build, generated at build time (cmake/WriteBuildInfo.cmake).
#include <string>

namespace attnbench {

struct BuildInfo {
  std::string version;     ///< attnbench's version (CMake project version)
  std::string git_commit;  ///< short hash, "-dirty" when tracked files had changes, or "unknown"
  std::string compiler;    ///< e.g. "GNU 12.2.0"
  std::string flags;       ///< the compile flags of our targets
  std::string build_type;  ///< Release, Debug, ...
};

const BuildInfo& build_info();

}  // namespace attnbench
