// The splits of partition.hpp.
#include "attnbench/partition.hpp"

#include <algorithm>
#include <stdexcept>

namespace attnbench {

Range even_share(std::int64_t n, int ranks, int rank) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw std::invalid_argument("even_share: rank out of range");
  const std::int64_t base = n / ranks, extra = n % ranks;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

Range kv_heads_of(const Problem& p, int ranks, int rank) { return even_share(p.kv_heads, ranks, rank); }

Range heads_of(const Problem& p, int ranks, int rank) {
  const Range kv = kv_heads_of(p, ranks, rank);
  return {kv.begin * p.group_size(), kv.end * p.group_size()};
}

int ring_chunks(const Problem& p, int ranks) {
  if (ranks == 1) return 1;
  return p.mask == Mask::causal ? 2 * ranks : ranks;
}

std::vector<Range> ring_rows(const Problem& p, std::int64_t seq, int ranks, int rank) {
  const int chunks = ring_chunks(p, ranks);
  if (chunks == ranks) return {even_share(seq, chunks, rank)};
  return {even_share(seq, chunks, rank), even_share(seq, chunks, chunks - 1 - rank)};  // zig-zag
}

namespace {
std::string ranks_word(std::int64_t n) { return std::to_string(n) + (n == 1 ? " rank" : " ranks"); }
}  // namespace

std::string partition_refusal(std::string_view strategy, const Problem& p, int ranks) {
  const std::string P = std::to_string(ranks);
  if (ranks < 1) return "the rank count must be >= 1 (got " + P + ")";
  if (strategy == "tp" || strategy == "ulysses") {
    if (ranks > p.kv_heads)
      return P + " ranks but only " + std::to_string(p.kv_heads) +
             " KV heads: heads are split by KV head (a grouped-query group stays on one rank); run with at most " +
             ranks_word(p.kv_heads);
    return "";
  }
  if (strategy == "ring") {
    const int chunks = ring_chunks(p, ranks);
    const std::int64_t shortest = std::min(p.seq_q, p.seq_kv);
    if (shortest < chunks)
      return P + " ranks cut each sequence into " + std::to_string(chunks) + " chunks" +
             (p.mask == Mask::causal ? " (2 per rank, zig-zag, for a causal mask)" : "") + " but seq " +
             std::to_string(shortest) + " has fewer rows; run with at most " +
             ranks_word(std::max<std::int64_t>(1, p.mask == Mask::causal ? shortest / 2 : shortest));
    return "";
  }
  throw std::invalid_argument("unknown parallel strategy '" + std::string(strategy) + "' (tp, ring, ulysses)");
}

}  // namespace attnbench
