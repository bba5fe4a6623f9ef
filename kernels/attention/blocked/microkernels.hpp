#pragma once
// The inner loops of the blocked kernels, behind one table of function pointers per instruction set:
// `avx2` (intrinsics compiled with __attribute__((target("avx2,fma"))), so they exist in every build,
// -march=native or not) and `generic` (plain C++, for CPUs without AVX2+FMA). Which one runs is decided
// at run time (select_isa: __builtin_cpu_supports), so a portable build is still fast on AVX2 machines.
//
// Conventions shared by every routine here:
// - A KV tile holds kBc = 64 keys. Scores are computed for whole tiles; keys past the end of the
//   sequence are zero-padded in the packed K/V, and the caller masks their scores with -inf, so a
//   micro-kernel always sees full tiles.
// - Scores are in the log2 domain: the caller folds log2(e) into the query side (and the 1/sqrt(d)
//   scale), so softmax weights are 2^(s - m) and one exp2 serves everything.
// - Packed K tile:  [kBc/16 panels][depth][16]  (K transposed, 16 keys per panel, depth = d or da)
//   Packed V tile:  [dvp/16 panels][kBc][16]    (dvp = dv rounded up to 16, zero-padded)
//   These make both products outer-product register blocks that read memory sequentially.
#include <cstdint>

namespace attnbench::kernels::blocked {

inline constexpr std::int64_t kBc = 64;     ///< keys per KV tile
inline constexpr std::int64_t kPanel = 16;  ///< columns per packed panel (two 8-float vectors)

inline constexpr std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

/// Lazy rescaling (log2 domain): a tile's softmax weights may be taken against a row's running max m
/// that is stale by up to this much, i.e. P = 2^(S - m) <= 2^8. The online-softmax state (m, l, O) stays
/// exact for any reference m (l and O share it); only overflow needs a bound, and 256 * seq_kv is far
/// from FLT_MAX. Rows rescale (the exact path) only when a score exceeds m + kLazyRescale, which for
/// real data happens on a row's first tiles only.
inline constexpr float kLazyRescale = 8.0f;

enum class Isa { generic, avx2 };
const char* to_string(Isa isa);

/// The best instruction set this CPU runs (avx2 needs AVX2 and FMA), unless the environment variable
/// ATTNBENCH_BLOCKED_ISA=generic asks for the portable path (used by the tests of the fallback).
Isa select_isa();
/// Whether this CPU can run `isa`.
bool isa_supported(Isa isa);

/// One query row's online-softmax state in the direct (decode) path lives in caller-owned arrays:
/// m[row], l[row] and o[row * dvp ...]. DecodeArgs describes one batch entry and one key range.
struct DecodeArgs {
  const float* q = nullptr;  ///< prepared query rows [H * Lq][dq]: row h*Lq + i, pre-scaled, zero-padded to dq
  std::int64_t dq = 0;       ///< round_up(d, 8)
  const float* k = nullptr;  ///< K of this batch entry, [Lk][Hk][d] (key j, head g at k + j*k_stride + g*d)
  std::int64_t k_stride = 0;
  const float* v = nullptr;  ///< V of this batch entry, [Lk][Hk][dv]
  std::int64_t v_stride = 0;
  std::int64_t heads = 0, kv_heads = 0, seq_q = 0, d = 0, dv = 0, dvp = 0;
  const std::int64_t* limit = nullptr;  ///< [Lq]: row i sees keys j < limit[i] (already clipped to Lk)
  std::int64_t key_begin = 0, key_end = 0;  ///< the key range of this call
  float* m = nullptr;  ///< [H * Lq] running max (log2 domain)
  float* l = nullptr;  ///< [H * Lq] running sum of 2^(s - m)
  float* o = nullptr;  ///< [H * Lq][dvp] unnormalised output
  std::int64_t* rows = nullptr;     ///< scratch: heads / kv_heads * seq_q entries
  std::int64_t* visible = nullptr;  ///< scratch: heads / kv_heads * seq_q entries
};

struct MicroKernels {
  Isa isa;

  /// S[r][j] = sum_c q[r*ldq + c] * K[j][c] for r < rows, j < kBc; K is one packed tile of `depth`.
  /// S is [rows][kBc].
  void (*scores_dot)(const float* q, std::int64_t ldq, std::int64_t rows, const float* k_tile, std::int64_t depth,
                     float* s);

  /// Additive (Bahdanau) scores in the log2 domain: with qa, ka already multiplied by 2*log2(e) and u by
  /// log2(e), S[r][j] = sum_a u[a] * tanh(x) where 2x*log2(e) = qa[r][a] + ka[j][a], evaluated as
  /// u_sum - 2 * sum_a u[a] / (1 + 2^(qa + ka)) (u_sum = sum_a u[a]). ka is one packed tile of depth da.
  void (*scores_additive)(const float* qa, std::int64_t ldq, std::int64_t rows, const float* ka_tile,
                          std::int64_t da, const float* u, float u_sum, float* s);

  /// The online-softmax update for one tile of scores S [rows][kBc] (log2 domain, -inf = masked):
  ///   m_new = max(m, max_j S[r][j]);  alpha[r] = 2^(m - m_new);  S[r][j] <- P = 2^(S - m_new);
  ///   l = l * alpha + sum_j P.   (A row with nothing visible yet keeps m = -inf, l = 0, alpha = 0.)
  void (*softmax_tile)(float* s, std::int64_t rows, float* m, float* l, float* alpha);

  /// The lazy online-softmax update (kLazyRescale) for one tile of scores S [rows][kBc], against each
  /// row's current running max m[r], which stays as it is: P[r][j] = 2^(S[r][j] - m[r]) into p
  /// [rows][kBc] (masked scores, -inf, give at most 2^-126), sums[r] = sum_j P[r][j]. A row with
  /// m[r] = -inf must have every score -inf and gets P = 0. One pass: no max pass, no rescale of O.
  /// Returns false when some score exceeds m[r] + kLazyRescale (P and sums are then unusable and the
  /// caller runs softmax_tile on S, which this leaves unchanged).
  bool (*softmax_lazy)(const float* s, std::int64_t rows, const float* m, float* p, float* sums);

  /// O[r][:] = alpha[r] * O[r][:] + sum_j P[r][j] * V[j][:], P [rows][kBc], V one packed tile, O [rows][dvp];
  /// alpha null: no rescale (alpha = 1, the lazy path).
  void (*accumulate_pv)(const float* p, std::int64_t rows, const float* v_tile, std::int64_t dvp,
                        const float* alpha, float* o);

  /// Packs one K tile: keys j < n from src + j*stride (depth floats each) into [kBc/16][depth][16];
  /// keys n..kBc-1 become 0.
  void (*pack_k)(const float* src, std::int64_t stride, std::int64_t n, std::int64_t depth, float* dst);

  /// Packs one V tile: keys j < n from src + j*stride (dv floats each) into [dvp/16][kBc][16], zero padded.
  void (*pack_v)(const float* src, std::int64_t stride, std::int64_t n, std::int64_t dv, std::int64_t dvp,
                 float* dst);

  /// The direct path (decode): every query row of one batch entry against keys [key_begin, key_end),
  /// read in place from K and V in memory order, updating the rows' online-softmax states.
  void (*decode)(const DecodeArgs& args);

  /// Elementwise y = e^x, 2^x, tanh(x) (the tested fast functions; see fast_math.hpp for the bounds).
  void (*exp)(const float* x, float* y, std::int64_t n);
  void (*exp2)(const float* x, float* y, std::int64_t n);
  void (*tanh)(const float* x, float* y, std::int64_t n);
};

const MicroKernels& micro_kernels(Isa isa);
const MicroKernels& generic_micro_kernels();
const MicroKernels& avx2_micro_kernels();  ///< only call where isa_supported(Isa::avx2)

}  // namespace attnbench::kernels::blocked
