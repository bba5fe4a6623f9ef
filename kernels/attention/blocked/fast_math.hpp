#pragma once
// Fast exp2, exp and tanh for fp32: range reduction + a degree-6 polynomial, shared (same constants,
// same steps) by the scalar code here and the AVX2 code in microkernels_avx2.cpp.
//
//   exp2(t):  n = round(t), f = t - n in [-1/2, 1/2] (exact), 2^t = 2^n * P2(f); 2^n is added to the
//             exponent bits of P2(f). Inputs are clamped to [-126, 128]: below -126 the result is 0
//             (flush to zero: the true value is below FLT_MIN), -inf gives 0, t >= 128 gives +inf,
//             NaN gives NaN.
//   exp(x):   n = round(x * log2(e)), r = x - n*ln2 with ln2 split in two (Cody-Waite; the high part has
//             9 significant bits so n*ln2_hi is exact), e^x = 2^n * P(r), r in [-ln2/2, ln2/2]. Results
//             below FLT_MIN flush to 0; x > ln(FLT_MAX) gives +inf; NaN gives NaN.
//   tanh(x):  sign(x) (1 - 2 / (1 + 2^(2|x|*log2(e)))), the argument clamped to 64 (tanh is +-1 in fp32
//             long before), the division a reciprocal estimate plus one Newton step in the AVX2 code.
//             The additive score's inner loop uses the unsigned form u_sum - 2 sum u / (1 + e^2x)
//             directly (one op cheaper per element), with a degree-5 2^f evaluated by Estrin's scheme
//             (kP2Short: shorter dependency chains, which is what limits that loop).
//
// P2 and P are minimax fits of the relative error (Lawson's iteratively reweighted least squares in
// long double), evaluated by Horner's rule; both fix the constant term to 1 so 2^0 = e^0 = 1 exactly.
//
// Bounds (tests/test_blocked_fast_math.cpp sweeps every 16th float of the whole range of both signs
// plus every float within 2^16 ulps of the thresholds, against std::exp2/std::exp/std::tanh in double,
// for both ISAs; measured maxima in brackets: AVX2 / generic with -march=native / generic portable):
//   exp:   relative error < 2.5e-7 [8.7e-8 / 8.7e-8 / 1.1e-7] wherever e^x is a normal float;
//          exactly 0 below FLT_MIN (-inf included), +inf above FLT_MAX, NaN for NaN, e^0 = 1.
//   exp2:  relative error < 2.5e-7 [7.9e-8 / 7.9e-8 / 1.0e-7], same special cases.
//   tanh:  absolute error < 3e-7 [1.8e-7 / 1.2e-7 / 1.2e-7]; exactly +-1 for large |x|.
//   the additive score's term u_sum - 2u / (1 + 2^t): absolute error < 4e-7 [2.9e-7 / 1.8e-7].
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace attnbench::kernels::blocked::fast_math {

inline constexpr float kLog2e = 1.44269504088896340736f;
inline constexpr float kLn2Hi = 0x1.63p-1f;                  // 0.693359375: 9 significant bits
inline constexpr float kLn2Lo = -2.12194440054690582e-4f;    // ln 2 - kLn2Hi
inline constexpr float kRoundMagic = 0x1.8p23f;              // 1.5 * 2^23: x + magic rounds x to an integer
inline constexpr float kExp2Min = -126.0f;                   // 2^-126 = FLT_MIN
inline constexpr float kExp2Max = 128.0f;
inline constexpr float kExpMin = -0x1.5d589ep+6f;            // -87.3365402: smallest float with e^x >= FLT_MIN
inline constexpr float kExpMax = 0x1.62e42ep+6f;             // 88.7228317: largest float with e^x <= FLT_MAX
inline constexpr float kTanhArgMax = 64.0f;                  // |2x log2 e| clamp for tanh

// 2^f on [-1/2, 1/2]: relative error 2.0e-9 in exact arithmetic (Horner in fp32 adds rounding).
inline constexpr float kP2[7] = {1.0f,           0x1.62e43p-1f,  0x1.ebfbdcp-3f, 0x1.c6aee8p-5f,
                                 0x1.3b2d4cp-7f, 0x1.5f3e54p-10f, 0x1.41fbbcp-13f};
// 2^f on [-1/2, 1/2], degree 5: relative error 9.1e-8 in exact arithmetic, 1.7e-7 evaluated in fp32
// (the hot loops: softmax weights and the additive score's tanh, evaluated by Estrin's scheme).
inline constexpr float kP2Short[6] = {1.0f, 0x1.62e42ap-1f, 0x1.ebf9bcp-3f, 0x1.c6b752p-5f, 0x1.3cea88p-7f,
                                      0x1.5bba14p-10f};
// e^r on [-ln2/2, ln2/2]: relative error 2.0e-9 in exact arithmetic.
inline constexpr float kPe[7] = {1.0f,           0x1p+0f,         0x1.fffffcp-2f, 0x1.55541ap-3f,
                                 0x1.555822p-5f, 0x1.126782p-7f, 0x1.6ae73p-10f};

inline float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline std::uint32_t float_to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float horner(const float (&c)[7], float x) {
  float p = c[6];
  for (int k = 5; k >= 0; --k) p = p * x + c[k];
  return p;
}

/// p * 2^n through the exponent bits (p in [1/sqrt2, sqrt2], n in [-126, 128], result normal or inf).
inline float scale_by_pow2(float p, float j) {
  // j = n + kRoundMagic: its low mantissa bits hold n (two's complement), so j << 23 is n << 23.
  return bits_to_float(float_to_bits(p) + (float_to_bits(j) << 23));
}

/// 2^t for every float t (scalar; the generic ISA and the per-row rescale factors use it).
inline float exp2(float t) {
  if (std::isnan(t)) return t;
  if (t < kExp2Min) return 0.0f;
  if (t > kExp2Max) t = kExp2Max;
  const float j = t + kRoundMagic;
  const float n = j - kRoundMagic;
  return scale_by_pow2(horner(kP2, t - n), j);
}

/// e^x for every float x.
inline float exp(float x) {
  if (std::isnan(x)) return x;
  if (x < kExpMin) return 0.0f;
  if (x > kExpMax) return std::numeric_limits<float>::infinity();
  const float j = x * kLog2e + kRoundMagic;
  const float n = j - kRoundMagic;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  return scale_by_pow2(horner(kPe, r), j);
}

/// 1 / (1 + 2^t), t clamped to [-64, 64] (the additive score's inner term).
inline float recip_one_plus_exp2(float t) {
  t = t < -kTanhArgMax ? -kTanhArgMax : (t > kTanhArgMax ? kTanhArgMax : t);
  return 1.0f / (1.0f + exp2(t));
}

/// tanh(x) = sign(x) (1 - 2 / (1 + e^(2|x|))).
inline float tanh(float x) {
  if (std::isnan(x)) return x;
  const float y = 1.0f - 2.0f * recip_one_plus_exp2(2.0f * kLog2e * std::fabs(x));
  return std::copysign(y > 0.0f ? y : 0.0f, x);
}

}  // namespace attnbench::kernels::blocked::fast_math
