#pragma once
// MPI set-up for the program. MPI is initialised only when a launcher (mpirun, srun --mpi=pmix)
// started us, so a plain `attnbench run` pays no MPI start-up cost; either way rank 0 owns all output.
namespace attnbench {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  bool active() const { return active_; }  ///< MPI_Init was called
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  /// True when the environment shows an MPI launcher started this process.
  static bool launched_by_mpi();

 private:
  bool active_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace attnbench
