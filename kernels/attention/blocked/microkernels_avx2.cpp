// AVX2+FMA micro-kernels of the blocked attention kernels (see microkernels.hpp for the contracts and
// the packed layouts). Every function here carries __attribute__((target("avx2,fma"))) and has internal
// linkage, so the file builds without -march=native and nothing from it can be merged into code that
// runs on a CPU without AVX2; micro_kernels() hands these out only after __builtin_cpu_supports.
//
// Register blocking (16 ymm registers):
//   S = Q K^T : 6 query rows x 16 keys = 12 accumulators; per depth step 2 loads of the K panel,
//               6 broadcasts of Q, 12 FMAs.
//   O += P V  : 6 rows x 16 value columns = 12 accumulators; per key 2 loads of the V panel, 6
//               broadcasts of P, 12 FMAs; the rescale O *= alpha is folded into loading O.
//   decode    : K and V in place, 8 keys at a time: 8 dot products reduced by one hadd tree (or 2 rows
//               x 4 keys sharing each K load), P V in 4-register (or 2 rows x 2-register) column blocks.
// (objdump -d of this file's object: the S and P V inner loops are 2 vmovaps + 6 vbroadcastss +
// 12 vfmadd231ps on ymm registers, nothing else.)
// All standard headers come before any target-specific code.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "fast_math.hpp"
#include "microkernels.hpp"

#define ATTNBENCH_AVX2 __attribute__((target("avx2,fma")))
#define ATTNBENCH_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace attnbench::kernels::blocked {
namespace {

namespace fm = fast_math;

// ---------------------------------------------------------------------------------------------
// Fast math on 8 lanes (the same steps as fast_math.hpp)

ATTNBENCH_AVX2_INLINE __m256 horner8(const float (&c)[7], __m256 x) {
  __m256 p = _mm256_set1_ps(c[6]);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[5]));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[4]));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[3]));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[2]));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[1]));
  return _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[0]));
}

// p * 2^n where j = n + 1.5*2^23 (n in the low mantissa bits of j, so j << 23 == n << 23).
ATTNBENCH_AVX2_INLINE __m256 scale_by_pow2(__m256 p, __m256 j) {
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(j), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

// 2^t for t in [-126, 128] (callers clamp).
ATTNBENCH_AVX2_INLINE __m256 exp2_core(__m256 t) {
  const __m256 magic = _mm256_set1_ps(fm::kRoundMagic);
  const __m256 j = _mm256_add_ps(t, magic);       // round(t) in the low bits
  const __m256 n = _mm256_sub_ps(j, magic);       // round(t)
  const __m256 f = _mm256_sub_ps(t, n);           // in [-1/2, 1/2], exact
  return scale_by_pow2(horner8(fm::kP2, f), j);   // 2^n * P2(f)
}

// 2^t for t <= 0 or -inf (the softmax weights): below -126 (and -inf) gives 0.
ATTNBENCH_AVX2_INLINE __m256 exp2_nonpositive(__m256 t) {
  const __m256 lo = _mm256_set1_ps(fm::kExp2Min);
  const __m256 keep = _mm256_cmp_ps(t, lo, _CMP_GE_OQ);
  return _mm256_and_ps(exp2_core(_mm256_max_ps(t, lo)), keep);
}

// 2^t for every float.
ATTNBENCH_AVX2_INLINE __m256 exp2_full(__m256 t) {
  const __m256 lo = _mm256_set1_ps(fm::kExp2Min), hi = _mm256_set1_ps(fm::kExp2Max);
  const __m256 keep = _mm256_cmp_ps(t, lo, _CMP_GE_OQ);
  const __m256 nan = _mm256_cmp_ps(t, t, _CMP_UNORD_Q);
  __m256 y = _mm256_and_ps(exp2_core(_mm256_min_ps(_mm256_max_ps(t, lo), hi)), keep);  // t >= 128: inf
  return _mm256_blendv_ps(y, t, nan);
}

// e^x for every float.
ATTNBENCH_AVX2_INLINE __m256 exp_full(__m256 x) {
  const __m256 lo = _mm256_set1_ps(fm::kExpMin), hi = _mm256_set1_ps(fm::kExpMax);
  const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
  const __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 magic = _mm256_set1_ps(fm::kRoundMagic);
  const __m256 j = _mm256_fmadd_ps(xc, _mm256_set1_ps(fm::kLog2e), magic);
  const __m256 n = _mm256_sub_ps(j, magic);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(fm::kLn2Hi), xc);  // x - n*ln2 (Cody-Waite)
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(fm::kLn2Lo), r);
  __m256 y = _mm256_and_ps(scale_by_pow2(horner8(fm::kPe, r), j), keep);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(std::numeric_limits<float>::infinity()), over);
  return _mm256_blendv_ps(y, x, nan);
}

// 2^t for t in [-126, 128] with the degree-5 polynomial evaluated by Estrin's scheme: one operation
// more than Horner's rule for the same degree but half the dependency chain, which is what limits the
// softmax and additive-score loops (long exp chains fill the out-of-order scheduler). Relative error
// 1.7e-7 (vs 7.9e-8 for the tested degree-6 exp2), far below the kernels' fp32 accumulation error.
ATTNBENCH_AVX2_INLINE __m256 exp2_core_short(__m256 t) {
  const __m256 magic = _mm256_set1_ps(fm::kRoundMagic);
  const __m256 j = _mm256_add_ps(t, magic);
  const __m256 f = _mm256_sub_ps(t, _mm256_sub_ps(j, magic));
  const __m256 f2 = _mm256_mul_ps(f, f);
  const __m256 lo = _mm256_fmadd_ps(_mm256_set1_ps(fm::kP2Short[1]), f, _mm256_set1_ps(1.0f));
  const __m256 mid = _mm256_fmadd_ps(_mm256_set1_ps(fm::kP2Short[3]), f, _mm256_set1_ps(fm::kP2Short[2]));
  const __m256 hi = _mm256_fmadd_ps(_mm256_set1_ps(fm::kP2Short[5]), f, _mm256_set1_ps(fm::kP2Short[4]));
  const __m256 p = _mm256_fmadd_ps(f2, _mm256_fmadd_ps(f2, hi, mid), lo);
  return scale_by_pow2(p, j);
}

// 1 / (1 + 2^t): reciprocal estimate (12 bits) plus one Newton step r' = r + r (1 - d r).
ATTNBENCH_AVX2_INLINE __m256 recip_one_plus_exp2(__m256 t) {
  const __m256 lim = _mm256_set1_ps(fm::kTanhArgMax), one = _mm256_set1_ps(1.0f);
  t = _mm256_min_ps(_mm256_max_ps(t, _mm256_sub_ps(_mm256_setzero_ps(), lim)), lim);
  const __m256 d = _mm256_add_ps(exp2_core_short(t), one);
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, one), r);
}

// tanh(x) = sign(x) (1 - 2 / (1 + e^(2|x|))): on |x| the quotient is at most 1/2, so the result is
// accurate to a few 1e-8 absolute and saturates to exactly +-1.
ATTNBENCH_AVX2_INLINE __m256 tanh8(__m256 x) {
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q), sign = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x);
  const __m256 t = _mm256_mul_ps(ax, _mm256_set1_ps(2.0f * fm::kLog2e));
  __m256 y = _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), recip_one_plus_exp2(t), _mm256_set1_ps(1.0f));
  y = _mm256_or_ps(_mm256_max_ps(y, _mm256_setzero_ps()), _mm256_and_ps(x, sign));
  return _mm256_blendv_ps(y, x, nan);
}

ATTNBENCH_AVX2_INLINE float hmax8(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

ATTNBENCH_AVX2_INLINE float hsum8(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// Mask with lanes [0, count) set, count in [0, 8].
ATTNBENCH_AVX2_INLINE __m256i lanes_below(std::int64_t count) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)), iota);
}

// Loads `count` (0..8) floats, zero in the other lanes; never touches memory past ptr[count - 1].
ATTNBENCH_AVX2_INLINE __m256 load_partial(const float* ptr, std::int64_t count) {
  if (count >= 8) return _mm256_loadu_ps(ptr);
  return _mm256_maskload_ps(ptr, lanes_below(count));
}

template <class Fn>
ATTNBENCH_AVX2_INLINE void map_array(const float* x, float* y, std::int64_t n, Fn fn) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = lanes_below(n - i);
    _mm256_maskstore_ps(y + i, mask, fn(_mm256_maskload_ps(x + i, mask)));
  }
}

struct ExpOp {
  ATTNBENCH_AVX2_INLINE __m256 operator()(__m256 v) const { return exp_full(v); }
};
struct Exp2Op {
  ATTNBENCH_AVX2_INLINE __m256 operator()(__m256 v) const { return exp2_full(v); }
};
struct TanhOp {
  ATTNBENCH_AVX2_INLINE __m256 operator()(__m256 v) const { return tanh8(v); }
};

ATTNBENCH_AVX2 void exp_avx2(const float* x, float* y, std::int64_t n) { map_array(x, y, n, ExpOp{}); }
ATTNBENCH_AVX2 void exp2_avx2(const float* x, float* y, std::int64_t n) { map_array(x, y, n, Exp2Op{}); }
ATTNBENCH_AVX2 void tanh_avx2(const float* x, float* y, std::int64_t n) { map_array(x, y, n, TanhOp{}); }

// ---------------------------------------------------------------------------------------------
// S = Q K^T

// S[MR][16] for MR query rows (stride ldq) against one K panel [depth][16]; S rows have stride kBc.
template <int MR>
ATTNBENCH_AVX2_INLINE void scores_block(const float* q, std::int64_t ldq, const float* panel, std::int64_t depth,
                                        float* s) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (std::int64_t c = 0; c < depth; ++c) {
    const __m256 k0 = _mm256_load_ps(panel + c * kPanel), k1 = _mm256_load_ps(panel + c * kPanel + 8);
    for (int r = 0; r < MR; ++r) {
      const __m256 qr = _mm256_broadcast_ss(q + r * ldq + c);
      acc0[r] = _mm256_fmadd_ps(qr, k0, acc0[r]);  // S[r][0:8]  += q[r][c] * K[0:8][c]
      acc1[r] = _mm256_fmadd_ps(qr, k1, acc1[r]);  // S[r][8:16] += q[r][c] * K[8:16][c]
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(s + r * kBc, acc0[r]);
    _mm256_store_ps(s + r * kBc + 8, acc1[r]);
  }
}

ATTNBENCH_AVX2 void scores_dot_avx2(const float* q, std::int64_t ldq, std::int64_t rows, const float* k_tile,
                                    std::int64_t depth, float* s) {
  for (std::int64_t p = 0; p < kBc / kPanel; ++p) {
    const float* panel = k_tile + p * depth * kPanel;
    float* sp = s + p * kPanel;
    std::int64_t r = 0;
    for (; r + 6 <= rows; r += 6) scores_block<6>(q + r * ldq, ldq, panel, depth, sp + r * kBc);
    switch (rows - r) {
      case 5: scores_block<5>(q + r * ldq, ldq, panel, depth, sp + r * kBc); break;
      case 4: scores_block<4>(q + r * ldq, ldq, panel, depth, sp + r * kBc); break;
      case 3: scores_block<3>(q + r * ldq, ldq, panel, depth, sp + r * kBc); break;
      case 2: scores_block<2>(q + r * ldq, ldq, panel, depth, sp + r * kBc); break;
      case 1: scores_block<1>(q + r * ldq, ldq, panel, depth, sp + r * kBc); break;
      default: break;
    }
  }
}

// Additive: MR rows x 16 keys; acc = sum_a u[a] / (1 + 2^(qa[r][a] + ka[j][a])), S = u_sum - 2 acc.
template <int MR>
ATTNBENCH_AVX2_INLINE void additive_block(const float* qa, std::int64_t ldq, const float* panel, std::int64_t da,
                                          const float* u, float u_sum, float* s) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (std::int64_t a = 0; a < da; ++a) {
    const __m256 k0 = _mm256_load_ps(panel + a * kPanel), k1 = _mm256_load_ps(panel + a * kPanel + 8);
    const __m256 ua = _mm256_broadcast_ss(u + a);
    for (int r = 0; r < MR; ++r) {
      const __m256 qr = _mm256_broadcast_ss(qa + r * ldq + a);
      acc0[r] = _mm256_fmadd_ps(ua, recip_one_plus_exp2(_mm256_add_ps(qr, k0)), acc0[r]);
      acc1[r] = _mm256_fmadd_ps(ua, recip_one_plus_exp2(_mm256_add_ps(qr, k1)), acc1[r]);
    }
  }
  const __m256 us = _mm256_set1_ps(u_sum), two = _mm256_set1_ps(2.0f);
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(s + r * kBc, _mm256_fnmadd_ps(two, acc0[r], us));
    _mm256_store_ps(s + r * kBc + 8, _mm256_fnmadd_ps(two, acc1[r], us));
  }
}

ATTNBENCH_AVX2 void scores_additive_avx2(const float* qa, std::int64_t ldq, std::int64_t rows, const float* ka_tile,
                                         std::int64_t da, const float* u, float u_sum, float* s) {
  for (std::int64_t p = 0; p < kBc / kPanel; ++p) {
    const float* panel = ka_tile + p * da * kPanel;
    float* sp = s + p * kPanel;
    std::int64_t r = 0;
    for (; r + 2 <= rows; r += 2) additive_block<2>(qa + r * ldq, ldq, panel, da, u, u_sum, sp + r * kBc);
    if (r < rows) additive_block<1>(qa + r * ldq, ldq, panel, da, u, u_sum, sp + r * kBc);
  }
}

// ---------------------------------------------------------------------------------------------
// Online softmax over one tile

// Three passes over 8 rows at a time: the rows' tile maxima; the new maxima and rescale factors as one
// vector (8 rows); then the probabilities row by row. Separating the passes keeps the per-row
// dependency chains (max -> exp -> sum) short, so consecutive rows overlap in the out-of-order core.
ATTNBENCH_AVX2 void softmax_tile_avx2(float* s, std::int64_t rows, float* m, float* l, float* alpha) {
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (std::int64_t r0 = 0; r0 < rows; r0 += 8) {
    const std::int64_t n = rows - r0 < 8 ? rows - r0 : 8;
    alignas(32) float tile_max[8], m_use[8], a[8];
    for (std::int64_t k = 0; k < 8; ++k) {
      if (k >= n) {
        tile_max[k] = -std::numeric_limits<float>::infinity();
        continue;
      }
      const float* row = s + (r0 + k) * kBc;
      __m256 mx = _mm256_max_ps(_mm256_load_ps(row), _mm256_load_ps(row + 8));
      for (int j = 16; j < kBc; j += 16) mx = _mm256_max_ps(mx, _mm256_max_ps(_mm256_load_ps(row + j), _mm256_load_ps(row + j + 8)));
      tile_max[k] = hmax8(mx);
    }
    const __m256i lanes = lanes_below(n);
    const __m256 m_old = _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(m + r0, lanes), _mm256_castsi256_ps(lanes));
    const __m256 m_new = _mm256_max_ps(m_old, _mm256_load_ps(tile_max));          // m_new = max(m_old, max_j S)
    const __m256 empty = _mm256_cmp_ps(m_new, neg_inf, _CMP_EQ_OQ);               // nothing visible yet
    const __m256 use = _mm256_andnot_ps(empty, m_new);                           // then subtract 0: P = 2^-inf = 0
    _mm256_store_ps(m_use, use);
    _mm256_store_ps(a, exp2_nonpositive(_mm256_sub_ps(m_old, use)));            // alpha = 2^(m_old - m_new)
    _mm256_maskstore_ps(m + r0, lanes, m_new);
    _mm256_maskstore_ps(alpha + r0, lanes, _mm256_load_ps(a));
    const int empty_rows = _mm256_movemask_ps(empty);
    for (std::int64_t k = 0; k < n; ++k) {
      float* row = s + (r0 + k) * kBc;
      if (empty_rows & (1 << k)) {  // every score so far is -inf: P = 0, l stays 0
        for (int j = 0; j < kBc; j += 8) _mm256_store_ps(row + j, _mm256_setzero_ps());
        continue;
      }
      // P = 2^(S - m_new), the degree-5 polynomial by Estrin's scheme (relative error 1.7e-7; the short
      // dependency chain is worth 10% of this loop). Masked scores (-inf) clamp to 2^-126 instead of 0:
      // at most kBc * 1.2e-38 of weight against the row maximum's weight of 1, far below fp32 resolution.
      const __m256 mu = _mm256_broadcast_ss(m_use + k), lo = _mm256_set1_ps(fm::kExp2Min);
      __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
      for (int j = 0; j < kBc; j += 16) {
        const __m256 p0 = exp2_core_short(_mm256_max_ps(_mm256_sub_ps(_mm256_load_ps(row + j), mu), lo));
        const __m256 p1 = exp2_core_short(_mm256_max_ps(_mm256_sub_ps(_mm256_load_ps(row + j + 8), mu), lo));
        _mm256_store_ps(row + j, p0);
        _mm256_store_ps(row + j + 8, p1);
        sum0 = _mm256_add_ps(sum0, p0);
        sum1 = _mm256_add_ps(sum1, p1);
      }
      l[r0 + k] = l[r0 + k] * a[k] + hsum8(_mm256_add_ps(sum0, sum1));  // l = l * alpha + sum_j P
    }
  }
}

// The lazy update (MicroKernels::softmax_lazy): one pass, no max pass, no rescale factors. Per row,
// P = 2^(S - m) in 16-key steps while the row's largest score is tracked for the final check.
ATTNBENCH_AVX2 bool softmax_lazy_avx2(const float* s, std::int64_t rows, const float* m, float* p, float* sums) {
  const __m256 lo = _mm256_set1_ps(fm::kExp2Min), slack = _mm256_set1_ps(kLazyRescale);
  __m256 over = _mm256_setzero_ps();
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = s + r * kBc;
    float* out = p + r * kBc;
    if (m[r] == -std::numeric_limits<float>::infinity()) {  // no visible key yet (all of S is -inf)
      for (int j = 0; j < kBc; j += 8) _mm256_store_ps(out + j, _mm256_setzero_ps());
      sums[r] = 0.0f;
      continue;
    }
    const __m256 mr = _mm256_broadcast_ss(m + r);
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps(), mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    for (int j = 0; j < kBc; j += 16) {
      const __m256 s0 = _mm256_load_ps(row + j), s1 = _mm256_load_ps(row + j + 8);
      mx = _mm256_max_ps(mx, _mm256_max_ps(s0, s1));
      // Masked scores (-inf) clamp to 2^-126, as in softmax_tile_avx2.
      const __m256 p0 = exp2_core_short(_mm256_max_ps(_mm256_sub_ps(s0, mr), lo));
      const __m256 p1 = exp2_core_short(_mm256_max_ps(_mm256_sub_ps(s1, mr), lo));
      _mm256_store_ps(out + j, p0);
      _mm256_store_ps(out + j + 8, p1);
      sum0 = _mm256_add_ps(sum0, p0);
      sum1 = _mm256_add_ps(sum1, p1);
    }
    over = _mm256_or_ps(over, _mm256_cmp_ps(mx, _mm256_add_ps(mr, slack), _CMP_GT_OQ));
    sums[r] = hsum8(_mm256_add_ps(sum0, sum1));
  }
  return _mm256_testz_ps(over, over) != 0;
}

// ---------------------------------------------------------------------------------------------
// O = alpha O + P V

template <int MR>
ATTNBENCH_AVX2_INLINE void pv_block(const float* p, const float* panel, const float* alpha, float* o,
                                    std::int64_t ldo) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm256_load_ps(o + r * ldo);
    acc1[r] = _mm256_load_ps(o + r * ldo + 8);
    if (alpha) {  // O *= alpha (rescale to the new max); null on the lazy path
      const __m256 a = _mm256_broadcast_ss(alpha + r);
      acc0[r] = _mm256_mul_ps(acc0[r], a);
      acc1[r] = _mm256_mul_ps(acc1[r], a);
    }
  }
#pragma GCC unroll 4
  for (std::int64_t j = 0; j < kBc; ++j) {
    const __m256 v0 = _mm256_load_ps(panel + j * kPanel), v1 = _mm256_load_ps(panel + j * kPanel + 8);
    for (int r = 0; r < MR; ++r) {
      const __m256 pr = _mm256_broadcast_ss(p + r * kBc + j);
      acc0[r] = _mm256_fmadd_ps(pr, v0, acc0[r]);  // O[r][0:8]  += P[r][j] * V[j][0:8]
      acc1[r] = _mm256_fmadd_ps(pr, v1, acc1[r]);  // O[r][8:16] += P[r][j] * V[j][8:16]
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(o + r * ldo, acc0[r]);
    _mm256_store_ps(o + r * ldo + 8, acc1[r]);
  }
}

ATTNBENCH_AVX2 void accumulate_pv_avx2(const float* p, std::int64_t rows, const float* v_tile, std::int64_t dvp,
                                       const float* alpha, float* o) {
  for (std::int64_t cp = 0; cp < dvp / kPanel; ++cp) {
    const float* panel = v_tile + cp * kBc * kPanel;
    float* oc = o + cp * kPanel;
    std::int64_t r = 0;
    for (; r + 6 <= rows; r += 6) pv_block<6>(p + r * kBc, panel, alpha ? alpha + r : nullptr, oc + r * dvp, dvp);
    const float* ar = alpha ? alpha + r : nullptr;
    switch (rows - r) {
      case 5: pv_block<5>(p + r * kBc, panel, ar, oc + r * dvp, dvp); break;
      case 4: pv_block<4>(p + r * kBc, panel, ar, oc + r * dvp, dvp); break;
      case 3: pv_block<3>(p + r * kBc, panel, ar, oc + r * dvp, dvp); break;
      case 2: pv_block<2>(p + r * kBc, panel, ar, oc + r * dvp, dvp); break;
      case 1: pv_block<1>(p + r * kBc, panel, ar, oc + r * dvp, dvp); break;
      default: break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Packing

// In-register 8x8 transpose: on return r[c] holds column c of the input rows.
ATTNBENCH_AVX2_INLINE void transpose8(__m256 (&r)[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

ATTNBENCH_AVX2 void pack_k_avx2(const float* src, std::int64_t stride, std::int64_t n, std::int64_t depth,
                                float* dst) {
  // dst: [kBc/16 panels][depth][16]; key j goes to panel j/16, lane j%16.
  for (std::int64_t j0 = 0; j0 < kBc; j0 += 8) {
    float* out = dst + (j0 / kPanel) * depth * kPanel + j0 % kPanel;
    const std::int64_t keys = n - j0 < 0 ? 0 : (n - j0 > 8 ? 8 : n - j0);
    if (keys == 8) {
      std::int64_t c = 0;
      for (; c + 8 <= depth; c += 8) {
        __m256 r[8];
        for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(src + (j0 + k) * stride + c);
        transpose8(r);
        for (int k = 0; k < 8; ++k) _mm256_store_ps(out + (c + k) * kPanel, r[k]);
      }
      for (; c < depth; ++c)
        for (int k = 0; k < 8; ++k) out[c * kPanel + k] = src[(j0 + k) * stride + c];
    } else {
      for (std::int64_t c = 0; c < depth; ++c)
        for (std::int64_t k = 0; k < 8; ++k) out[c * kPanel + k] = k < keys ? src[(j0 + k) * stride + c] : 0.0f;
    }
  }
}

ATTNBENCH_AVX2 void pack_v_avx2(const float* src, std::int64_t stride, std::int64_t n, std::int64_t dv,
                                std::int64_t dvp, float* dst) {
  // dst: [dvp/16 panels][kBc][16]; column c of key j goes to panel c/16, row j, lane c%16.
  if (n == kBc && dv == dvp) {  // a full tile of whole panels: plain copies
    for (std::int64_t j = 0; j < kBc; ++j)
      for (std::int64_t c = 0; c < dvp; c += kPanel) {
        float* out = dst + (c / kPanel) * kBc * kPanel + j * kPanel;
        _mm256_store_ps(out, _mm256_loadu_ps(src + j * stride + c));
        _mm256_store_ps(out + 8, _mm256_loadu_ps(src + j * stride + c + 8));
      }
    return;
  }
  for (std::int64_t j = 0; j < kBc; ++j)
    for (std::int64_t c = 0; c < dvp; c += 8) {
      float* out = dst + (c / kPanel) * kBc * kPanel + j * kPanel + c % kPanel;
      const std::int64_t cols = j >= n || c >= dv ? 0 : dv - c;
      _mm256_store_ps(out, cols > 0 ? load_partial(src + j * stride + c, cols) : _mm256_setzero_ps());
    }
}

// ---------------------------------------------------------------------------------------------
// The direct (decode) path

// Lane j of the result = the sum of a[j]'s lanes.
ATTNBENCH_AVX2_INLINE __m256 reduce8(const __m256 (&a)[8]) {
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
  // h0123 = [a0 a1 a2 a3 (low halves) | a0 a1 a2 a3 (high halves)], likewise h4567.
  return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

// Eight dot products q . k_j (j = 0..7, rows k + j*stride) returned in lanes 0..7.
ATTNBENCH_AVX2_INLINE __m256 dot8(const float* q, const float* k, std::int64_t stride, std::int64_t d) {
  __m256 a[8];
  for (int j = 0; j < 8; ++j) a[j] = _mm256_setzero_ps();
  std::int64_t c = 0;
  for (; c + 8 <= d; c += 8) {
    const __m256 qv = _mm256_loadu_ps(q + c);
    for (int j = 0; j < 8; ++j) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + j * stride + c), a[j]);
  }
  if (c < d) {  // q is zero-padded to a multiple of 8; K is not, so mask its tail
    const __m256i mask = lanes_below(d - c);
    const __m256 qv = _mm256_loadu_ps(q + c);
    for (int j = 0; j < 8; ++j) a[j] = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k + j * stride + c, mask), a[j]);
  }
  return reduce8(a);
}

// Two rows against 4 keys (rows of k at `stride`; q zero-padded to a multiple of 8, K's tail masked):
// lanes 0..3 = qa . k_0..3, lanes 4..7 = qb . k_0..3. Each key register is loaded once for both rows.
ATTNBENCH_AVX2_INLINE __m256 dot2x4(const float* qa, const float* qb, const float* k, std::int64_t stride,
                                    std::int64_t d) {
  __m256 a[8];
  for (int j = 0; j < 8; ++j) a[j] = _mm256_setzero_ps();
  std::int64_t c = 0;
  for (; c + 8 <= d; c += 8) {
    const __m256 x = _mm256_loadu_ps(qa + c), y = _mm256_loadu_ps(qb + c);
    for (int j = 0; j < 4; ++j) {
      const __m256 kv = _mm256_loadu_ps(k + j * stride + c);
      a[j] = _mm256_fmadd_ps(x, kv, a[j]);
      a[4 + j] = _mm256_fmadd_ps(y, kv, a[4 + j]);
    }
  }
  if (c < d) {
    const __m256i mask = lanes_below(d - c);
    const __m256 x = _mm256_loadu_ps(qa + c), y = _mm256_loadu_ps(qb + c);
    for (int j = 0; j < 4; ++j) {
      const __m256 kv = _mm256_maskload_ps(k + j * stride + c, mask);
      a[j] = _mm256_fmadd_ps(x, kv, a[j]);
      a[4 + j] = _mm256_fmadd_ps(y, kv, a[4 + j]);
    }
  }
  return reduce8(a);
}

ATTNBENCH_AVX2_INLINE float dot1(const float* q, const float* k, std::int64_t d) {
  __m256 acc = _mm256_setzero_ps();
  std::int64_t c = 0;
  for (; c + 8 <= d; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(k + c), acc);
  if (c < d) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), load_partial(k + c, d - c), acc);
  return hsum8(acc);
}

// Lane j of p in every lane of bc[j], j < n: the weights of P V as whole registers (broadcasting them
// from a just-stored P vector instead would make each 4-byte load wait for a 32-byte store).
ATTNBENCH_AVX2_INLINE void broadcast_lanes(__m256 p, std::int64_t n, __m256* bc) {
  for (std::int64_t j = 0; j < n; ++j) bc[j] = _mm256_permutevar8x32_ps(p, _mm256_set1_epi32(int(j)));
}

// O = alpha O + sum_{j < n} p_j V_j for one row, V_j at v + j*stride (dv floats); bc from broadcast_lanes.
ATTNBENCH_AVX2_INLINE void decode_pv(const __m256* bc, std::int64_t n, const float* v, std::int64_t stride,
                                     std::int64_t dv, float alpha, float* o) {
  const __m256 av = _mm256_set1_ps(alpha);
  std::int64_t c = 0;
  for (; c + 32 <= dv; c += 32) {  // 4 registers of O at a time
    __m256 acc0 = _mm256_mul_ps(_mm256_load_ps(o + c), av), acc1 = _mm256_mul_ps(_mm256_load_ps(o + c + 8), av);
    __m256 acc2 = _mm256_mul_ps(_mm256_load_ps(o + c + 16), av), acc3 = _mm256_mul_ps(_mm256_load_ps(o + c + 24), av);
    for (std::int64_t j = 0; j < n; ++j) {
      const __m256 pj = bc[j];
      const float* vj = v + j * stride + c;
      acc0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj), acc0);
      acc1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8), acc1);
      acc2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 16), acc2);
      acc3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 24), acc3);
    }
    _mm256_store_ps(o + c, acc0);
    _mm256_store_ps(o + c + 8, acc1);
    _mm256_store_ps(o + c + 16, acc2);
    _mm256_store_ps(o + c + 24, acc3);
  }
  for (; c < dv; c += 8) {  // the rest, 8 columns at a time; V's last columns masked
    const __m256i mask = lanes_below(dv - c);
    __m256 acc = _mm256_mul_ps(_mm256_load_ps(o + c), av);
    for (std::int64_t j = 0; j < n; ++j) acc = _mm256_fmadd_ps(bc[j], _mm256_maskload_ps(v + j * stride + c, mask), acc);
    _mm256_store_ps(o + c, acc);
  }
}

// Lanes [0, count) set, as a float mask for blendv.
ATTNBENCH_AVX2_INLINE __m256 visible_lanes(std::int64_t count) { return _mm256_castsi256_ps(lanes_below(count)); }

// decode_pv for two rows at once, 16 columns (2 registers per row) at a time: each V register is
// loaded once for both rows.
ATTNBENCH_AVX2_INLINE void decode_pv2(const __m256* ba, const __m256* bb, std::int64_t n, const float* v,
                                      std::int64_t stride, std::int64_t dv, float alpha_a, float alpha_b, float* oa,
                                      float* ob) {
  const __m256 aa = _mm256_set1_ps(alpha_a), ab = _mm256_set1_ps(alpha_b);
  std::int64_t c = 0;
  for (; c + 16 <= dv; c += 16) {
    __m256 x0 = _mm256_mul_ps(_mm256_load_ps(oa + c), aa), x1 = _mm256_mul_ps(_mm256_load_ps(oa + c + 8), aa);
    __m256 y0 = _mm256_mul_ps(_mm256_load_ps(ob + c), ab), y1 = _mm256_mul_ps(_mm256_load_ps(ob + c + 8), ab);
    for (std::int64_t j = 0; j < n; ++j) {
      const __m256 v0 = _mm256_loadu_ps(v + j * stride + c), v1 = _mm256_loadu_ps(v + j * stride + c + 8);
      x0 = _mm256_fmadd_ps(ba[j], v0, x0);
      x1 = _mm256_fmadd_ps(ba[j], v1, x1);
      y0 = _mm256_fmadd_ps(bb[j], v0, y0);
      y1 = _mm256_fmadd_ps(bb[j], v1, y1);
    }
    _mm256_store_ps(oa + c, x0);
    _mm256_store_ps(oa + c + 8, x1);
    _mm256_store_ps(ob + c, y0);
    _mm256_store_ps(ob + c + 8, y1);
  }
  if (c < dv) {
    decode_pv(ba, n, v + c, stride, dv - c, alpha_a, oa + c);
    decode_pv(bb, n, v + c, stride, dv - c, alpha_b, ob + c);
  }
}

// One row's online-softmax update for a block of scores s (invisible lanes -inf, at least one
// visible): m_new = max(m, max s); alpha = 2^(m - m_new); P = 2^(s - m_new), lanes j < n broadcast to
// bc[j]; l = l alpha + sum P.
ATTNBENCH_AVX2_INLINE float decode_softmax(__m256 s, std::int64_t n, float& m, float& l, __m256* bc) {
  const float block_max = hmax8(s);
  const float m_new = block_max > m ? block_max : m;  // finite: something is visible
  const float alpha = _mm256_cvtss_f32(exp2_nonpositive(_mm256_set1_ps(m - m_new)));
  const __m256 pv = exp2_nonpositive(_mm256_sub_ps(s, _mm256_set1_ps(m_new)));
  broadcast_lanes(pv, n, bc);
  l = l * alpha + hsum8(pv);
  m = m_new;
  return alpha;
}

ATTNBENCH_AVX2 void decode_avx2(const DecodeArgs& args) {
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  // Locals: stores through float pointers could otherwise alias args' fields and force reloads.
  const float* const q_rows = args.q;
  const float* const k = args.k;
  const float* const v = args.v;
  const std::int64_t dq = args.dq, k_stride = args.k_stride, v_stride = args.v_stride, kv_heads = args.kv_heads;
  const std::int64_t seq_q = args.seq_q, d = args.d, dv = args.dv, dvp = args.dvp;
  const std::int64_t* const limit = args.limit;
  float* const m = args.m;
  float* const l = args.l;
  float* const o = args.o;
  const std::int64_t group = args.heads / kv_heads;
  std::int64_t last = 0;  // keys past every row's limit are skipped
  for (std::int64_t i = 0; i < seq_q; ++i) last = limit[i] > last ? limit[i] : last;
  const std::int64_t end = args.key_end < last ? args.key_end : last;
  const __m256 neg_inf_v = _mm256_set1_ps(neg_inf);
  __m256 p[8];                                 // P of one row, lane j broadcast to p[j]
  std::int64_t* const rows = args.rows;        // [group * seq_q]: rows of one kv head that see the block
  std::int64_t* const visible = args.visible;  // [group * seq_q]: how many of its keys each sees
  // Memory order: a block of 8 keys, then every KV head within it (K and V are [key][head][dim]).
  for (std::int64_t j0 = args.key_begin; j0 < end; j0 += 8) {
    const std::int64_t n = end - j0 < 8 ? end - j0 : 8;
    for (std::int64_t g = 0; g < kv_heads; ++g) {
      const float* kb = k + j0 * k_stride + g * d;  // key j0 + j at kb + j * ks
      const float* vb = v + j0 * v_stride + g * dv;
      const std::int64_t ks = k_stride, vs = v_stride;
      // The rows of this kv head (heads of its group x query positions) that see some key of the block.
      std::int64_t count = 0;
      for (std::int64_t h = g * group; h < (g + 1) * group; ++h)
        for (std::int64_t i = 0; i < seq_q; ++i)
          if (limit[i] > j0) {
            rows[count] = h * seq_q + i;
            visible[count++] = limit[i] - j0 < n ? limit[i] - j0 : n;  // keys j0..j0+visible-1
          }
      std::int64_t r = 0;
      if (n == 8)  // a full block: two rows at a time share every K and V load
        for (; r + 2 <= count; r += 2) {
          const std::int64_t ra = rows[r], rb = rows[r + 1];
          const __m256 lo = dot2x4(q_rows + ra * dq, q_rows + rb * dq, kb, ks, d);           // keys 0..3
          const __m256 hi = dot2x4(q_rows + ra * dq, q_rows + rb * dq, kb + 4 * ks, ks, d);  // keys 4..7
          const __m256 sa = _mm256_blendv_ps(neg_inf_v, _mm256_permute2f128_ps(lo, hi, 0x20), visible_lanes(visible[r]));
          const __m256 sb = _mm256_blendv_ps(neg_inf_v, _mm256_permute2f128_ps(lo, hi, 0x31), visible_lanes(visible[r + 1]));
          const std::int64_t keys = visible[r] > visible[r + 1] ? visible[r] : visible[r + 1];  // P = 0 past a row's own
          __m256 pb[8];
          const float alpha_a = decode_softmax(sa, keys, m[ra], l[ra], p);
          const float alpha_b = decode_softmax(sb, keys, m[rb], l[rb], pb);
          decode_pv2(p, pb, keys, vb, vs, dv, alpha_a, alpha_b, o + ra * dvp, o + rb * dvp);
        }
      for (; r < count; ++r) {
        const std::int64_t row = rows[r];
        const float* q = q_rows + row * dq;
        __m256 sc;
        if (n == 8) {
          sc = dot8(q, kb, ks, d);
        } else {
          alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          for (std::int64_t j = 0; j < n; ++j) t[j] = dot1(q, kb + j * ks, d);
          sc = _mm256_load_ps(t);
        }
        sc = _mm256_blendv_ps(neg_inf_v, sc, visible_lanes(visible[r]));  // invisible lanes score -inf
        const float alpha = decode_softmax(sc, visible[r], m[row], l[row], p);  // P = 2^(s - m_new), l, m
        decode_pv(p, visible[r], vb, vs, dv, alpha, o + row * dvp);       // O = alpha O + sum_j P_j V_j
      }
    }
  }
}

}  // namespace

const MicroKernels& avx2_micro_kernels() {
  static const MicroKernels table{Isa::avx2,         scores_dot_avx2,    scores_additive_avx2,
                                  softmax_tile_avx2,  softmax_lazy_avx2, accumulate_pv_avx2,
                                  pack_k_avx2,        pack_v_avx2,        decode_avx2,
                                  exp_avx2,           exp2_avx2,          tanh_avx2};
  return table;
}

}  // namespace attnbench::kernels::blocked
