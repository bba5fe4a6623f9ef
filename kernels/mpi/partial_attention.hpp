#pragma once
// The ring's per-rank compute: FlashAttention's online softmax over K/V blocks that arrive one at a
// time, on the blocked kernel's micro-kernels (kernels/attention/blocked/microkernels.hpp) and executor.
// Each of this rank's query rows keeps its running state across blocks:
//   m  running max of the scores (log2 domain)    l  running sum of 2^(s - m)    O  unnormalised output
// and a block folds in tile by tile:  m' = max(m, max_j s_j),  O = 2^(m - m') O + sum_j 2^(s_j - m') v_j,
// l = 2^(m - m') l + sum_j 2^(s_j - m'); the output is O / l after the last block (0 where l = 0).
// As in the blocked kernel, a tile whose scores stay within kLazyRescale of the running max skips the
// rescale (m' = m). Partials of two blocks would merge by the same rule; keeping the state per row and
// folding each arriving block into it is that merge, without materialising the partials.
// Masks use global positions: query i sees key j iff j < lengths[b] (padding) and j <= i + Lk - Lq
// (causal, bottom-right), so any assignment of rows to ranks gives the single-node result.
#include <cstdint>
#include <new>
#include <vector>

#include "../attention/blocked/executor.hpp"
#include "../attention/blocked/microkernels.hpp"
#include "attnbench/partition.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/problem.hpp"

namespace attnbench::kernels::mpi {

/// 64-byte-aligned storage: the micro-kernels load packed tiles, scores and accumulators aligned.
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  // cppcheck-suppress noExplicitConstructor ; the rebinding conversion an allocator must have (as std::allocator)
  Aligned64(const Aligned64<U>&) {}  // NOLINT: rebinding, as std::allocator
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  friend bool operator==(const Aligned64&, const Aligned64&) { return true; }
};
using AlignedFloats = std::vector<float, Aligned64<float>>;

class PartialAttention {
 public:
  PartialAttention() = default;
  /// Query rows `rows` (global ranges, increasing) of a scaled_dot or multiplicative problem `p`
  /// (`w_score` [H][d][d] for the latter, else null); blocks of at most `max_block_keys` keys in at
  /// most two ranges; `threads` scratch slots; `phases`: where the phases are recorded (null: nowhere).
  PartialAttention(const Problem& p, std::vector<Range> rows, std::int64_t max_block_keys, int threads,
                   const float* w_score = nullptr, PhaseRecorder* phases = nullptr);
  static std::int64_t workspace_bytes(const Problem& p, std::int64_t rows, std::int64_t max_block_keys, int threads);

  /// Begins a forward pass: prepares the query rows and clears the state. `q` is [B][seq][H*d]: with
  /// `global_rows` the full input (row i of batch b at b*Lq + i), else only these rows ([B][rows]).
  /// `lengths` [B] for a padding mask, else null.
  void start(const float* q, bool global_rows, const std::int32_t* lengths);

  /// Folds in one K/V block: [K: B][n][Hk][d] then [V: B][n][Hk][dv], its n keys being the global
  /// ranges `keys` in order. `progress` is called by thread 0 between work items (MPI progress).
  void add_block(const float* block, const std::vector<Range>& keys, blocked::Executor& executor,
                 blocked::FunctionRef<void()> progress);

  /// Output rows O / l (0 where no key was visible) as [B][seq][H*dv]: with out_seq > 0 into the full
  /// tensor at the rows' global positions, else back to back ([B][rows]).
  void normalise_into(float* out, std::int64_t out_seq, std::int64_t width) const;

 private:
  struct KvTile {
    std::int64_t j0, n, offset;  // first global key, keys (<= kBc), first row in the block
  };
  struct QTile {
    std::int64_t rho0, rows;  // local rows [rho0, rho0 + rows), within one range
  };
  std::int64_t state_index(std::int64_t b, std::int64_t h, std::int64_t rho) const { return (b * p_.heads + h) * lq_ + rho; }

  Problem p_;
  PhaseRecorder* phases_ = nullptr;
  const blocked::MicroKernels* mk_ = nullptr;
  std::vector<Range> rows_;
  std::int64_t lq_ = 0, dvp_ = 0, max_tiles_ = 0;
  std::vector<std::int64_t> global_;  // [lq]: global row of each local row
  std::vector<QTile> q_tiles_;
  std::vector<KvTile> kv_tiles_;      // of the block being folded in
  AlignedFloats q_;                   // [B][H][lq][d]: q * log2(e)/sqrt(d), times W_h (multiplicative)
  std::vector<float> w_t_, q_tmp_;    // multiplicative: W_h^T [H][d][d]; one head's rows [lq][d]
  AlignedFloats m_, l_, o_;           // [B][H][lq], [B][H][lq], [B][H][lq][dvp]
  std::vector<std::int64_t> limit_;   // [B][lq]: row sees global keys j < limit
  AlignedFloats packed_k_, packed_v_;  // per (b, kv head): [max_tiles][kBc*d], [max_tiles][kBc*dvp]
  AlignedFloats scratch_;             // per thread: S, P [br][kBc], alpha, sums [br]
};

}  // namespace attnbench::kernels::mpi
