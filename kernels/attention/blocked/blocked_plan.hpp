#pragma once
// How a problem is cut into work for the blocked kernels: which path, the tile sizes, the work units
// whose K/V are packed together, the KV split, and every buffer with its size. Everything here is a
// function of the problem and the thread count only; workspace_bytes() and prepare() both read it, so
// the memory the harness is told about is the memory allocated.
//
// Two paths (both exact online softmax, FlashAttention's recurrence):
//   tiled   Q tiles of `br` rows x KV tiles of kBc keys. A unit is (batch, kv head) - or (batch, head)
//           for additive scores, whose packed keys Wk k depend on the query head - and its K/V are
//           packed once and shared by all its query rows (all heads of a grouped-query group). Units
//           go in waves of `slots`; the next wave's packing runs at the end of the current wave's
//           compute items (double-buffered), so threads never wait for packing.
//   streamed  few query rows per kv head against long keys (seq_q * group <= kStreamRows and a unit's
//           packed K/V over kLongKvBytes; not additive), e.g. cross-attention of 64 queries over 16k keys:
//           one item per (unit, key chunk) holds the state of all its rows and packs each KV tile once,
//           into per-thread buffers, right before every row block uses it. K/V then stream from memory
//           exactly once, where the tiled path would re-read a unit's packed K/V (larger than the caches)
//           for every Q tile.
//   direct  decode-like problems (few query rows per kv head: seq_q * group <= kDirectRows, or up to
//           kDirectRowsLongKv when a unit's packed K/V would not stay in cache; not additive): one
//           unit per batch entry covers every head; K and V are read in place, in memory order (see
//           DecodeArgs), because each element is used only a few times and packing would triple the
//           memory traffic of a bandwidth-bound step.
// Both split the keys into `chunks` when there are too few items to keep threads busy (split-KV),
// writing partial (m, l, O) per chunk that a merge phase combines.
#include <cstdint>
#include <utility>

#include "attnbench/problem.hpp"

namespace attnbench::kernels::blocked {

enum class Path { tiled, streamed, direct };
const char* to_string(Path path);

inline constexpr std::int64_t kDirectRows = 8;   ///< direct path when seq_q * group <= this, or when
inline constexpr std::int64_t kDirectRowsLongKv = 32;  ///< seq_q * group <= this and one unit's packed K/V
inline constexpr std::int64_t kLongKvBytes = std::int64_t{4} << 20;  ///< would exceed this (streams from DRAM)
inline constexpr std::int64_t kStreamRows = 256;  ///< streamed path when seq_q * group <= this (and long K/V)
inline constexpr std::int64_t kMinItems = 32;       ///< split the keys until there are this many items
inline constexpr std::int64_t kMinChunkTiled = 1024;  ///< keys per chunk at least (tiled path)
inline constexpr std::int64_t kMinChunkDirect = 512;  ///< keys per chunk at least (direct path)
inline constexpr std::int64_t kPackTiles = 4;         ///< KV tiles per packing item
inline constexpr std::int64_t kMaxSecondBufferBytes = std::int64_t{64} << 20;  ///< double-buffer up to this
inline constexpr std::int64_t kWaveBytes = std::int64_t{8} << 20;  ///< packed K/V a wave may fill (L3-sized)

struct Plan {
  Problem p;
  int threads = 1;
  Path path = Path::tiled;

  std::int64_t d = 0, dv = 0;
  std::int64_t dvp = 0;    ///< dv rounded up to 16: width of O accumulators and packed V
  std::int64_t dk = 0;     ///< depth of packed K: d, or da for additive scores
  std::int64_t dq = 0;     ///< width of prepared query rows: dk (tiled) or d rounded up to 8 (direct)
  std::int64_t group = 1;  ///< query heads per kv head

  std::int64_t br = 0;              ///< rows per Q tile (tiled) or row block (streamed)
  std::int64_t units = 0;           ///< tiled: B*Hk (B*H for additive); streamed: B*Hk; direct: B
  std::int64_t heads_per_unit = 0;  ///< tiled: group (1 for additive); streamed: group; direct: H
  std::int64_t rows_per_unit = 0;   ///< heads_per_unit * seq_q; row rho is (head rho / Lq, query rho % Lq)
  std::int64_t tiles_per_head_group = 0, heads_per_tile = 0;  ///< row-tile geometry, see tile_rows
  std::int64_t tiles_per_unit = 0;  ///< Q tiles per unit (1 for streamed and direct)
  std::int64_t kv_tiles = 0;        ///< ceil(seq_kv / kBc)
  std::int64_t chunks = 1;          ///< KV split
  std::int64_t chunk_keys = 0;      ///< keys per chunk (a multiple of kBc)
  std::int64_t slots = 0;           ///< units computed per wave (tiled)
  std::int64_t packed_buffers = 0;  ///< slots, twice over when there are several waves: wave w + 1 is
                                    ///< packed while wave w computes

  // Buffer sizes, in floats.
  std::int64_t packed_k_floats = 0;  ///< per slot: kv_tiles * kBc * dk (streamed: 0, one tile in scratch)
  std::int64_t packed_v_floats = 0;  ///< per slot: kv_tiles * kBc * dvp
  std::int64_t scratch_floats = 0;   ///< per thread
  std::int64_t partial_floats = 0;   ///< all rows x chunks x (dvp + 2), when chunks > 1
  std::int64_t projected_floats = 0; ///< projected Q, K, V and the pre-projection output
  std::int64_t weight_floats = 0;    ///< copies of the projection and score weights

  /// Query rows [first, second) of unit-relative Q tile t.
  std::pair<std::int64_t, std::int64_t> tile_rows(std::int64_t t) const;
  /// Everything this plan allocates beyond the boundary tensors.
  std::int64_t workspace_bytes() const;
};

/// `br_override` > 0 forces the Q tile height (for tuning and tests).
Plan make_plan(const Problem& p, int threads, std::int64_t br_override = 0);

}  // namespace attnbench::kernels::blocked
