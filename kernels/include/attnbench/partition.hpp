#pragma once
/// \file partition.hpp
/// How the MPI kernels split a problem across P ranks: one definition shared by the kernels, the
/// analytic communication volumes (comm_volume.hpp), the performance model and the tests.
///
/// - Heads (mha.tp.mpi, mha.ulysses.mpi) are split by KV head: the kv_heads are shared out with
///   even_share (the first kv_heads % P ranks get one more), and each rank takes the query heads of its
///   KV heads (group_size() per KV head), so a grouped-query group never straddles two ranks. Uneven
///   counts are spread this way, never refused; more ranks than KV heads are refused.
/// - Sequences (mha.ulysses.mpi) are split into P contiguous row ranges with even_share.
/// - The ring (mha.ring.mpi) splits queries and keys into `ring_chunks` chunks with even_share: P
///   contiguous chunks, or for a causal mask 2P chunks of which rank r holds chunks r and 2P-1-r
///   (zig-zag), so every rank gets as many visible (query, key) pairs as the others.
#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"

namespace attnbench {

/// The index range [begin, end).
struct Range {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
  friend bool operator==(const Range&, const Range&) = default;
};

/// Rank `rank`'s share of n items split over `ranks` as evenly as possible: sizes differ by at most
/// one, the first n % ranks ranks holding the larger share.
Range even_share(std::int64_t n, int ranks, int rank);

/// KV heads of `rank` under head parallelism.
Range kv_heads_of(const Problem& p, int ranks, int rank);
/// Query heads of `rank` under head parallelism: the groups of its KV heads.
Range heads_of(const Problem& p, int ranks, int rank);

/// Chunks the ring cuts each sequence into: 1 on one rank, else P, or 2P for a causal mask.
int ring_chunks(const Problem& p, int ranks);
/// The row ranges of `rank` in a sequence of `seq` rows under the ring's split (one range, or two
/// for the zig-zag of a causal mask), in increasing order.
std::vector<Range> ring_rows(const Problem& p, std::int64_t seq, int ranks, int rank);

/// Why `strategy` ("tp", "ring", "ulysses") cannot run `p` on `ranks` ranks, or "" if it can.
std::string partition_refusal(std::string_view strategy, const Problem& p, int ranks);

}  // namespace attnbench
