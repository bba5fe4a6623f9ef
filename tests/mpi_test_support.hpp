#pragma once
// Helpers for the GoogleTest programs run under mpiexec (their main(): mpi_gtest_main.cpp).
#include <mpi.h>

namespace attnbench::test_support {

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

inline int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

}  // namespace attnbench::test_support
