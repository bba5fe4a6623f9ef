// The blocked kernels' plan (see blocked_plan.hpp).
#include "blocked_plan.hpp"

#include <algorithm>

#include "attnbench/workload.hpp"
#include "microkernels.hpp"

namespace attnbench::kernels::blocked {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t aligned(std::int64_t floats) { return round_up(floats, 16); }  // keep sub-buffers 64-byte aligned

// Q tile height: a multiple of the 6-row register block. A Q tile, its scores and its O accumulators
// (br * (dk + kBc + dvp) floats: 36 KiB at d = 64, 60 KiB at d = 128) stay in L1/L2 while the packed
// K/V tiles (16 KiB each at d = 64) stream through: each K/V byte read from L2/L3 serves br rows, so
// the kernel is compute-bound for any br past a few rows. Measured on Zen 4, B=1 H=16 seq 2048: 24 to
// 96 rows all within 1% (d = 64: 91.6-92.3 GFLOP/s, d = 128: 98.3-98.6).
std::int64_t default_tile_rows(const Problem&) { return 48; }

}  // namespace

const char* to_string(Path path) {
  switch (path) {
    case Path::tiled: return "tiled";
    case Path::streamed: return "streamed";
    case Path::direct: return "direct";
  }
  return "?";
}

std::pair<std::int64_t, std::int64_t> Plan::tile_rows(std::int64_t t) const {
  const std::int64_t head_group = t / tiles_per_head_group, k = t % tiles_per_head_group;
  const std::int64_t first = head_group * heads_per_tile * p.seq_q + k * br;
  const std::int64_t group_end = std::min((head_group + 1) * heads_per_tile, heads_per_unit) * p.seq_q;
  return {first, std::min(group_end, first + br)};
}

std::int64_t Plan::workspace_bytes() const {
  std::int64_t floats = packed_buffers * (packed_k_floats + packed_v_floats) + std::int64_t(threads) * scratch_floats +
                        partial_floats + projected_floats + weight_floats;
  // Work-item lists (two int64 per item) are small; counted for honesty.
  const std::int64_t items = (path == Path::tiled ? slots * tiles_per_unit : units) * chunks;
  return floats * std::int64_t(sizeof(float)) + items * 16;
}

Plan make_plan(const Problem& p, int threads, std::int64_t br_override) {
  Plan plan;
  plan.p = p;
  plan.threads = std::max(1, threads);
  const std::int64_t B = p.batch, H = p.heads, Hk = p.kv_heads, Lq = p.seq_q, Lk = p.seq_kv;
  const std::int64_t da = additive_dim(p);
  plan.d = p.head_dim;
  plan.dv = p.value_dim;
  plan.dvp = round_up(plan.dv, kPanel);
  plan.group = p.group_size();
  plan.dk = p.score == Score::additive ? da : plan.d;
  plan.kv_tiles = ceil_div(Lk, kBc);

  const std::int64_t rows_per_kv_head = Lq * plan.group;
  const std::int64_t unit_packed_bytes = plan.kv_tiles * kBc * (plan.dk + plan.dvp) * 4;
  const bool direct = p.score != Score::additive &&
                      (rows_per_kv_head <= kDirectRows ||
                       (rows_per_kv_head <= kDirectRowsLongKv && unit_packed_bytes > kLongKvBytes));
  const bool streamed = !direct && p.score != Score::additive && rows_per_kv_head <= kStreamRows &&
                        unit_packed_bytes > kLongKvBytes;
  plan.path = direct ? Path::direct : streamed ? Path::streamed : Path::tiled;
  if (streamed) {
    plan.dq = plan.dk;
    plan.units = B * Hk;
    plan.heads_per_unit = plan.group;
    plan.rows_per_unit = rows_per_kv_head;
    plan.br = br_override > 0 ? br_override : default_tile_rows(p);
    plan.tiles_per_unit = plan.tiles_per_head_group = 1;
    plan.heads_per_tile = plan.heads_per_unit;
    const std::int64_t want = ceil_div(kMinItems, plan.units);
    plan.chunk_keys = std::max(kMinChunkTiled, round_up(ceil_div(Lk, want), kBc));
    plan.chunks = ceil_div(Lk, plan.chunk_keys);
    const std::int64_t n = plan.rows_per_unit, br = plan.br;
    plan.scratch_floats = aligned(n * plan.dq) + 2 * aligned(br * kBc) + aligned(n * plan.dvp) + 2 * aligned(n) +
                          2 * aligned(br) + aligned(2 * n) +                   // q, S, P, O, m, l, alpha, sums,
                          aligned(kBc * plan.dk) + aligned(kBc * plan.dvp);  // limits; a K and a V tile
  } else if (direct) {
    plan.dq = round_up(plan.d, 8);
    plan.units = B;
    plan.heads_per_unit = H;
    plan.rows_per_unit = H * Lq;
    plan.br = plan.rows_per_unit;
    plan.tiles_per_unit = plan.tiles_per_head_group = plan.heads_per_tile = 1;
    // Split the keys so that there are at least kMinItems (batch, chunk) items.
    const std::int64_t want = ceil_div(kMinItems, B);
    plan.chunk_keys = std::max(kMinChunkDirect, round_up(ceil_div(Lk, want), kBc));
    plan.chunks = ceil_div(Lk, plan.chunk_keys);
    plan.slots = 0;
    plan.scratch_floats = aligned(plan.rows_per_unit * plan.dq) + aligned(plan.rows_per_unit * plan.dvp) +
                          2 * aligned(plan.rows_per_unit) + aligned(2 * Lq) +  // q, O, m, l, limits (int64)
                          2 * aligned(2 * plan.group * Lq);                         // a kv head's rows (int64)
  } else {
    plan.dq = plan.dk;
    plan.units = p.score == Score::additive ? B * H : B * Hk;
    plan.heads_per_unit = p.score == Score::additive ? 1 : plan.group;
    plan.rows_per_unit = plan.heads_per_unit * Lq;
    plan.br = br_override > 0 ? br_override : default_tile_rows(p);
    if (Lq >= plan.br) {  // tiles within one head
      plan.heads_per_tile = 1;
      plan.tiles_per_head_group = ceil_div(Lq, plan.br);
    } else {  // short sequences: a tile covers whole heads of the group
      plan.heads_per_tile = plan.br / Lq;
      plan.tiles_per_head_group = 1;
    }
    plan.tiles_per_unit = ceil_div(plan.heads_per_unit, plan.heads_per_tile) * plan.tiles_per_head_group;
    const std::int64_t base_items = plan.units * plan.tiles_per_unit;
    plan.chunk_keys = round_up(Lk, kBc);
    if (base_items < kMinItems) {
      const std::int64_t want = ceil_div(kMinItems, base_items);
      plan.chunk_keys = std::max(kMinChunkTiled, round_up(ceil_div(Lk, want), kBc));
    }
    plan.chunks = ceil_div(Lk, plan.chunk_keys);
    // Units per wave: at least one per thread, more when a unit has few items (so that each wave has
    // work for every thread), and as many as kWaveBytes of packed K/V hold (fewer waves, fewer
    // barriers: small problems run in one wave).
    plan.packed_k_floats = plan.kv_tiles * kBc * plan.dk;
    plan.packed_v_floats = plan.kv_tiles * kBc * plan.dvp;
    const std::int64_t unit_bytes = (plan.packed_k_floats + plan.packed_v_floats) * 4;
    const std::int64_t per_unit_items = plan.tiles_per_unit * plan.chunks;
    const std::int64_t per_thread = std::clamp<std::int64_t>(ceil_div(4, per_unit_items), 1, 8);
    plan.slots = std::min(plan.units, std::max(plan.threads * per_thread, kWaveBytes / unit_bytes));
    // Double-buffer (pack the next wave during this one) unless the second set would be large.
    const std::int64_t set_bytes = plan.slots * (plan.packed_k_floats + plan.packed_v_floats) * 4;
    plan.packed_buffers = plan.units > plan.slots && set_bytes <= kMaxSecondBufferBytes ? 2 * plan.slots : plan.slots;
    const std::int64_t br = plan.br;
    plan.scratch_floats = aligned(br * plan.dq) + 2 * aligned(br * kBc) + aligned(br * plan.dvp) + 4 * aligned(br) +
                          aligned(2 * br);  // q, S, P, O, m, l, alpha, sums, limits (int64)
    if (p.score == Score::additive) plan.scratch_floats += aligned(kPackTiles * kBc * da);  // Wk k before packing
  }
  if (plan.chunks > 1) plan.partial_floats = plan.units * plan.rows_per_unit * plan.chunks * (plan.dvp + 2);

  if (p.projections) {
    const std::int64_t E = p.model_dim();
    plan.projected_floats = B * Lq * H * plan.d + B * Lk * Hk * (plan.d + plan.dv) + B * Lq * H * plan.dv;
    plan.weight_floats += (H * plan.d + Hk * (plan.d + plan.dv)) * (E + 1) + (H * plan.dv + 1) * E;
  }
  if (p.score == Score::multiplicative) plan.weight_floats += H * plan.d * plan.d;
  if (p.score == Score::additive) plan.weight_floats += H * da * (2 * plan.d + 1);
  return plan;
}

}  // namespace attnbench::kernels::blocked
