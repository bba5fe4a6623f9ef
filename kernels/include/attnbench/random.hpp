#pragma once
/// \file random.hpp
/// A small deterministic generator (SplitMix64) with its own normal sampler, so that the same seed
/// gives bit-identical inputs with every compiler and standard library (std::normal_distribution
/// does not).

#include <cmath>
#include <cstdint>

namespace attnbench {

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1): 53 random bits, never 0 (safe for log).
  double uniform() { return (double(next() >> 11) + 0.5) * 0x1.0p-53; }
  /// Uniform integer in [lo, hi].
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return lo + std::int64_t(next() % std::uint64_t(hi - lo + 1));
  }
  /// Standard normal by Box-Muller (one value per call; simplicity over speed).
  double normal() {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    return r * std::cos(6.283185307179586 * uniform());
  }

 private:
  std::uint64_t state_;
};

}  // namespace attnbench
