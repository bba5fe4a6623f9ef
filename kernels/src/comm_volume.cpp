// Analytic communication volumes (comm_volume.hpp), from the splits of partition.hpp.
#include "attnbench/comm_volume.hpp"

#include <algorithm>
#include <stdexcept>

#include "attnbench/partition.hpp"

namespace attnbench {
namespace {

constexpr std::int64_t kFloat = 4;

PhaseVolume tp_volume(const Problem& p, int ranks, int rank) {
  if (p.projections) return {"allreduce", ranks > 1 ? p.batch * p.seq_q * p.model_dim() * kFloat : 0, ranks > 1 ? 1 : 0};
  if (rank == 0) return {"gather", 0, 0};
  const std::int64_t bytes = p.batch * p.seq_q * heads_of(p, ranks, rank).size() * p.value_dim * kFloat;
  return {"gather", bytes, bytes > 0 ? 1 : 0};
}

PhaseVolume ring_volume(const Problem& p, int ranks, int rank) {
  // At step s (1..P-1) rank r sends the block of rank (r - s + 1) mod P.
  PhaseVolume v{"ring_step", 0, 0};
  for (int step = 1; step < ranks; ++step) {
    std::int64_t rows = 0;
    for (const Range& r : ring_rows(p, p.seq_kv, ranks, ((rank - step + 1) % ranks + ranks) % ranks)) rows += r.size();
    const std::int64_t bytes = p.batch * rows * p.kv_heads * (p.head_dim + p.value_dim) * kFloat;
    v.bytes_sent_per_rank += bytes;
    v.messages_per_rank += bytes > 0 ? 1 : 0;
  }
  return v;
}

PhaseVolume ulysses_volume(const Problem& p, int ranks, int rank) {
  PhaseVolume v{"alltoall", 0, 0};
  auto add = [&](std::int64_t bytes) {
    v.bytes_sent_per_rank += bytes;
    v.messages_per_rank += bytes > 0 ? 1 : 0;
  };
  const std::int64_t B = p.batch, d = p.head_dim, dv = p.value_dim;
  const std::int64_t lq = even_share(p.seq_q, ranks, rank).size(), lk = even_share(p.seq_kv, ranks, rank).size();
  for (int peer = 0; peer < ranks; ++peer) {
    if (peer == rank) continue;
    const std::int64_t h = heads_of(p, ranks, peer).size(), hk = kv_heads_of(p, ranks, peer).size();
    add(B * lq * h * d * kFloat);   // my Q rows, the peer's heads
    add(B * lk * hk * d * kFloat);  // my K rows
    add(B * lk * hk * dv * kFloat); // my V rows
    // back: my heads' output for the peer's query rows
    add(B * even_share(p.seq_q, ranks, peer).size() * heads_of(p, ranks, rank).size() * dv * kFloat);
  }
  return v;
}

}  // namespace

std::vector<PhaseVolume> comm_volume_of_rank(std::string_view strategy, const Problem& p, int ranks, int rank) {
  if (const std::string why = partition_refusal(strategy, p, ranks); !why.empty())
    throw std::invalid_argument("comm_volume: " + std::string(strategy) + ": " + why);
  if (rank < 0 || rank >= ranks) throw std::invalid_argument("comm_volume: rank out of range");
  if (strategy == "tp") return {tp_volume(p, ranks, rank)};
  if (strategy == "ring") return {ring_volume(p, ranks, rank)};
  return {ulysses_volume(p, ranks, rank)};
}

std::vector<PhaseVolume> comm_volume(std::string_view strategy, const Problem& p, int ranks) {
  std::vector<PhaseVolume> most = comm_volume_of_rank(strategy, p, ranks, 0);
  for (int r = 1; r < ranks; ++r) {
    const std::vector<PhaseVolume> v = comm_volume_of_rank(strategy, p, ranks, r);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i].bytes_sent_per_rank > most[i].bytes_sent_per_rank) most[i] = v[i];
  }
  return most;
}

}  // namespace attnbench
