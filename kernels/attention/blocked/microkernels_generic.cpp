// Portable C++ versions of the blocked micro-kernels (microkernels.hpp), for CPUs without AVX2+FMA.
// Same layouts and the same math as microkernels_avx2.cpp, written as plain loops the compiler may
// vectorise for whatever the build targets; the fast exp2/tanh are the scalar ones of fast_math.hpp.
#include <cstdint>
#include <cstring>
#include <limits>

#include "fast_math.hpp"
#include "microkernels.hpp"

namespace attnbench::kernels::blocked {
namespace {

namespace fm = fast_math;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void scores_dot_generic(const float* q, std::int64_t ldq, std::int64_t rows, const float* k_tile, std::int64_t depth,
                        float* s) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float acc[kBc] = {};
    for (std::int64_t c = 0; c < depth; ++c) {
      const float qc = q[r * ldq + c];
      for (std::int64_t p = 0; p < kBc / kPanel; ++p) {
        const float* kc = k_tile + (p * depth + c) * kPanel;
        for (std::int64_t j = 0; j < kPanel; ++j) acc[p * kPanel + j] += qc * kc[j];  // S[r][j] += q[r][c] K[j][c]
      }
    }
    std::memcpy(s + r * kBc, acc, sizeof acc);
  }
}

void scores_additive_generic(const float* qa, std::int64_t ldq, std::int64_t rows, const float* ka_tile,
                             std::int64_t da, const float* u, float u_sum, float* s) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float acc[kBc] = {};
    for (std::int64_t a = 0; a < da; ++a) {
      const float qr = qa[r * ldq + a];
      for (std::int64_t p = 0; p < kBc / kPanel; ++p) {
        const float* kc = ka_tile + (p * da + a) * kPanel;
        for (std::int64_t j = 0; j < kPanel; ++j) acc[p * kPanel + j] += u[a] * fm::recip_one_plus_exp2(qr + kc[j]);
      }
    }
    for (std::int64_t j = 0; j < kBc; ++j) s[r * kBc + j] = u_sum - 2.0f * acc[j];
  }
}

void softmax_tile_generic(float* s, std::int64_t rows, float* m, float* l, float* alpha) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = s + r * kBc;
    float tile_max = kNegInf;
    for (std::int64_t j = 0; j < kBc; ++j) tile_max = row[j] > tile_max ? row[j] : tile_max;
    const float m_new = tile_max > m[r] ? tile_max : m[r];  // m_new = max(m_old, max_j S)
    const float m_use = m_new == kNegInf ? 0.0f : m_new;     // nothing visible yet: P = 0
    const float a = fm::exp2(m[r] - m_use);                  // alpha = 2^(m_old - m_new)
    float sum = 0;
    for (std::int64_t j = 0; j < kBc; ++j) sum += (row[j] = fm::exp2(row[j] - m_use));  // P = 2^(S - m_new)
    l[r] = l[r] * a + sum;  // l = l * alpha + sum_j P
    m[r] = m_new;
    alpha[r] = a;
  }
}

bool softmax_lazy_generic(const float* s, std::int64_t rows, const float* m, float* p, float* sums) {
  bool ok = true;
  for (std::int64_t r = 0; r < rows; ++r) {
    const bool empty = m[r] == kNegInf;  // no visible key yet (all of S is -inf)
    float sum = 0;
    for (std::int64_t j = 0; j < kBc; ++j) {
      const float x = s[r * kBc + j];
      ok &= x <= m[r] + kLazyRescale;
      sum += (p[r * kBc + j] = empty ? 0.0f : fm::exp2(x - m[r]));  // P = 2^(S - m), m stale by < kLazyRescale
    }
    sums[r] = sum;
  }
  return ok;
}

void accumulate_pv_generic(const float* p, std::int64_t rows, const float* v_tile, std::int64_t dvp,
                           const float* alpha, float* o) {
  for (std::int64_t r = 0; r < rows; ++r) {
    float* orow = o + r * dvp;
    if (alpha)
      for (std::int64_t c = 0; c < dvp; ++c) orow[c] *= alpha[r];  // O *= alpha
    for (std::int64_t j = 0; j < kBc; ++j) {
      const float pj = p[r * kBc + j];
      for (std::int64_t cp = 0; cp < dvp / kPanel; ++cp) {
        const float* vj = v_tile + (cp * kBc + j) * kPanel;
        for (std::int64_t c = 0; c < kPanel; ++c) orow[cp * kPanel + c] += pj * vj[c];  // O += P[r][j] V[j]
      }
    }
  }
}

void pack_k_generic(const float* src, std::int64_t stride, std::int64_t n, std::int64_t depth, float* dst) {
  for (std::int64_t j = 0; j < kBc; ++j)
    for (std::int64_t c = 0; c < depth; ++c)
      dst[((j / kPanel) * depth + c) * kPanel + j % kPanel] = j < n ? src[j * stride + c] : 0.0f;
}

void pack_v_generic(const float* src, std::int64_t stride, std::int64_t n, std::int64_t dv, std::int64_t dvp,
                    float* dst) {
  for (std::int64_t j = 0; j < kBc; ++j)
    for (std::int64_t c = 0; c < dvp; ++c)
      dst[((c / kPanel) * kBc + j) * kPanel + c % kPanel] = j < n && c < dv ? src[j * stride + c] : 0.0f;
}

void decode_generic(const DecodeArgs& a) {
  const std::int64_t group = a.heads / a.kv_heads;
  std::int64_t last = 0;
  for (std::int64_t i = 0; i < a.seq_q; ++i) last = a.limit[i] > last ? a.limit[i] : last;
  const std::int64_t end = a.key_end < last ? a.key_end : last;
  float p[8];
  for (std::int64_t j0 = a.key_begin; j0 < end; j0 += 8) {
    const std::int64_t n = end - j0 < 8 ? end - j0 : 8;
    for (std::int64_t g = 0; g < a.kv_heads; ++g) {
      const float* kb = a.k + j0 * a.k_stride + g * a.d;
      const float* vb = a.v + j0 * a.v_stride + g * a.dv;
      for (std::int64_t h = g * group; h < (g + 1) * group; ++h)
        for (std::int64_t i = 0; i < a.seq_q; ++i) {
          const std::int64_t visible = a.limit[i] - j0 < n ? a.limit[i] - j0 : n;
          if (visible <= 0) continue;
          const std::int64_t row = h * a.seq_q + i;
          const float* q = a.q + row * a.dq;
          float block_max = kNegInf;
          for (std::int64_t j = 0; j < visible; ++j) {
            float acc = 0;
            for (std::int64_t c = 0; c < a.d; ++c) acc += q[c] * kb[j * a.k_stride + c];
            p[j] = acc;
            block_max = acc > block_max ? acc : block_max;
          }
          const float m_new = block_max > a.m[row] ? block_max : a.m[row];
          const float alpha = fm::exp2(a.m[row] - m_new);  // 2^(m_old - m_new)
          float sum = 0;
          for (std::int64_t j = 0; j < visible; ++j) sum += (p[j] = fm::exp2(p[j] - m_new));
          a.l[row] = a.l[row] * alpha + sum;
          a.m[row] = m_new;
          float* o = a.o + row * a.dvp;
          for (std::int64_t c = 0; c < a.dv; ++c) o[c] *= alpha;
          for (std::int64_t j = 0; j < visible; ++j)
            for (std::int64_t c = 0; c < a.dv; ++c) o[c] += p[j] * vb[j * a.v_stride + c];
        }
    }
  }
}

void exp_generic(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = fm::exp(x[i]);
}
void exp2_generic(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = fm::exp2(x[i]);
}
void tanh_generic(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = fm::tanh(x[i]);
}

}  // namespace

const MicroKernels& generic_micro_kernels() {
  static const MicroKernels table{Isa::generic,          scores_dot_generic,    scores_additive_generic,
                                  softmax_tile_generic,  softmax_lazy_generic,  accumulate_pv_generic,
                                  pack_k_generic,        pack_v_generic,        decode_generic,
                                  exp_generic,           exp2_generic,          tanh_generic};
  return table;
}

}  // namespace attnbench::kernels::blocked
