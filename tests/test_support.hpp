#pragma once
// Helpers shared by the test programs.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "attnbench/problem.hpp"

namespace attnbench::testing {

/// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("attnbench-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
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

}  // namespace attnbench::testing
