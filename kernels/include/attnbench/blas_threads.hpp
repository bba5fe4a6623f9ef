#pragma once
/// \file blas_threads.hpp
/// Holding OpenBLAS to a thread count for a scope. Kernels that split work over their own OpenMP
/// threads call cblas from each of them with OpenBLAS single-threaded (the kernel owns the cores; a
/// threaded BLAS inside would oversubscribe them); the previous setting comes back afterwards.
#include <cblas.h>

namespace attnbench {

class BlasThreads {
 public:
  explicit BlasThreads(int threads) : previous_(openblas_get_num_threads()) {
    if (previous_ != threads) openblas_set_num_threads(threads);
    wanted_ = threads;
  }
  ~BlasThreads() {
    if (previous_ != wanted_) openblas_set_num_threads(previous_);
  }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

 private:
  int previous_;
  int wanted_;
};

}  // namespace attnbench
