#pragma once
/// \file kernel.hpp
/// The kernel contract. A kernel is a named implementation (`<op>.<algorithm>.<backend>`) with declared
/// capabilities, a `supports(problem)` answer with a reason, a memory estimate, and a set-up step
/// (`prepare`: allocation, weight packing) separate from the timed call (`PreparedKernel::run`).

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

#include "attnbench/op.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench {

enum class Family { attention, cnn, rnn };
enum class Parallelism { serial, openmp, tbb, mpi };
const char* to_string(Family f);
const char* to_string(Parallelism p);

struct Capabilities {
  std::vector<Mask> masks{Mask::none};
  std::vector<Score> scores{Score::scaled_dot};
  bool cross = false;          ///< seq_q != seq_kv (incl. decode)
  bool grouped_query = false;  ///< kv_heads < heads
  bool projections = false;    ///< the full module with Q/K/V/O linear layers
  Parallelism parallelism = Parallelism::serial;
  /// Largest max_rel_error (see check.hpp) accepted against the float64 reference.
  double tolerance = 1e-4;
};

/// Capabilities of a kernel that supports every mask, score, shape relation and the projections.
Capabilities all_features(Parallelism parallelism, double tolerance);

/// Capabilities of the CNN/RNN baselines: no mask or a causal one (causal padding for a convolution; a
/// unidirectional RNN is causal by construction), scaled_dot only, and `projections` accepted (the
/// layer always has its weights, so an attention-with-projections problem is its matched shape).
Capabilities baseline_features(Parallelism parallelism, double tolerance);

struct KernelInfo {
  std::string id;           ///< e.g. "mha.naive.serial"
  Family family = Family::attention;
  std::string description;  ///< one line, for `attnbench list`
  Capabilities caps;
  Op op = Op::mha;          ///< what it computes: selects the workload, reference and cost (op.hpp)
};

/// `supports()`'s answer: ok, or the reason it is not.
struct Support {
  bool ok = true;
  std::string reason;
  static Support yes() { return {}; }
  static Support no(std::string why) { return {false, std::move(why)}; }
};

class PhaseRecorder;  // phase_recorder.hpp

/// How a kernel should run: threads for openmp/tbb kernels (serial kernels ignore it); the ranks of
/// an mpi kernel (others ignore it). An mpi kernel on MPI_COMM_SELF, or with MPI not initialised,
/// runs on one rank and communicates nothing. `phases`: where the prepared kernel records its phases
/// (`attnbench profile`); null, the default, records nothing.
struct RunContext {
  int threads = 1;
  MPI_Comm comm = MPI_COMM_SELF;
  PhaseRecorder* phases = nullptr;
};

struct CommLog;  // comm_log.hpp

/// A kernel after set-up for one problem. `run` is the timed call: it reads the inputs (q, k, v,
/// lengths) from the set on every call, writes `out`, never throws and never allocates from the OS
/// in steady state.
class PreparedKernel {
 public:
  virtual ~PreparedKernel() = default;
  virtual void run(const TensorSet& inputs, Tensor& out) = 0;
  /// mpi kernels: communication bytes and seconds per phase, compute seconds, summed over the runs
  /// since the harness last reset it; null for kernels that do not communicate.
  virtual CommLog* comm_log() { return nullptr; }
  /// mpi kernels whose algorithm leaves the output sharded (ring, Ulysses) assemble the full output
  /// on rank 0 here, after run() and untimed, for the check and --save-output. Collective.
  virtual void collect_output(Tensor& /*out*/) {}
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual const KernelInfo& info() const = 0;
  const std::string& id() const { return info().id; }

  /// Can this kernel run `p`? The default checks that `p` means something for the operator
  /// (op_refusal), then the declared capabilities, and names the first missing one; kernels with further limits override and call it first. `p` must be valid.
  virtual Support supports(const Problem& p) const;
  /// supports() under `ctx`: mpi kernels add the limits of their split across ctx.comm's ranks
  /// (e.g. more ranks than heads).
  virtual Support supports_run(const Problem& p, const RunContext& /*ctx*/) const { return supports(p); }

  /// Bytes this kernel allocates beyond the boundary tensors (io_bytes) when run under `ctx`:
  /// scratch and packed weights. The harness refuses a case that would not fit before preparing it.
  virtual std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const = 0;

  /// Set-up: allocate scratch, pack weights. Only called when supports(p).ok. May throw.
  virtual std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                                  const RunContext& ctx) const = 0;

  /// Threads the kernel will actually use under `ctx` (1 for serial kernels).
  int effective_threads(const RunContext& ctx) const;
};

/// A kernel whose description is a value given at construction: the base of the registered kernel
/// classes (one class often serves several registry lines, e.g. .serial and .omp, told apart by it).
class DescribedKernel : public Kernel {
 public:
  explicit DescribedKernel(KernelInfo info) : info_(std::move(info)) {}
  const KernelInfo& info() const final { return info_; }

 private:
  KernelInfo info_;
};

}  // namespace attnbench
