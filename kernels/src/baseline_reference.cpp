// The float64 reference of the CNN and RNN baselines: the executable definition of their equations,
// written for clarity (one output element at a time, everything in double from the fp32 inputs),
// independently of the kernels. PyTorch's conventions throughout (docs/SEMANTICS.md, "Baselines").
//
// conv1d, layer l of `layers`, dilation dl = dilation * 2^l, total padding P = dl * (k - 1),
// left padding P/2 ("same", torch's padding='same': the odd element goes right) or P (causal):
//   y[b, t, o] = b_conv[l, o] + sum_{j < k} sum_c w_conv[l, o, c, j] * x[b, t + j*dl - left, c]
// (terms outside [0, L) read zeros), then ReLU between layers (not after the last).
//
// RNN cells, gate blocks of w_ih/w_hh/b_ih/b_hh in torch's order, s = sigmoid:
//   lstm (i, f, g, o):  i = s(..), f = s(..), g = tanh(..), o = s(..)  with (..) = W_i* x + b_i* + W_h* h + b_h*
//                       c' = f*c + i*g,   h' = o * tanh(c')
//   gru  (r, z, n):     r = s(W_ir x + b_ir + W_hr h + b_hr),  z = s(W_iz x + b_iz + W_hz h + b_hz)
//                       n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),   h' = (1 - z) * n + z * h
//   elman:              h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
// Direction 0 runs t = 0 .. L-1 from h0[0] (c0[0]); direction 1 (bidirectional) runs t = L-1 .. 0 from
// h0[1]; out[b, t, dir*E + j] is that direction's h after step t.
#include "baseline_reference.hpp"

#include <cmath>
#include <vector>

#include "attnbench/workload.hpp"

namespace attnbench {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Tensor conv1d_reference(const Problem& p, const TensorSet& in) {
  p.validate();
  validate_inputs(Op::conv1d, p, in);
  const std::int64_t B = p.batch, L = p.seq_q, E = p.model_dim(), k = p.kernel_size;
  const auto x = in.at("x").as<float>();
  const auto w = in.at("w_conv").as<float>();
  const auto bias = in.at("b_conv").as<float>();
  std::vector<double> cur(x.begin(), x.end()), next(cur.size());  // [B, L, E]
  for (std::int64_t l = 0; l < p.layers; ++l) {
    const std::int64_t dl = layer_dilation(p, l), pad = dl * (k - 1);
    const std::int64_t left = p.mask == Mask::causal ? pad : pad / 2;
    const float* wl = w.data() + l * E * E * k;  // [E_out, E_in, k]
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t t = 0; t < L; ++t)
        for (std::int64_t o = 0; o < E; ++o) {
          double acc = bias[std::size_t(l * E + o)];
          for (std::int64_t j = 0; j < k; ++j) {
            const std::int64_t s = t + j * dl - left;
            if (s < 0 || s >= L) continue;
            for (std::int64_t c = 0; c < E; ++c)
              acc += double(wl[(o * E + c) * k + j]) * cur[std::size_t((b * L + s) * E + c)];
          }
          const bool last = l == p.layers - 1;
          next[std::size_t((b * L + t) * E + o)] = last || acc > 0 ? acc : 0.0;
        }
    cur.swap(next);
  }
  Tensor out(DataType::f64, output_spec(Op::conv1d, p).shape);
  std::copy(cur.begin(), cur.end(), out.as<double>().begin());
  return out;
}

Tensor rnn_reference(Op op, const Problem& p, const TensorSet& in) {
  p.validate();
  validate_inputs(op, p, in);
  const std::int64_t B = p.batch, L = p.seq_q, E = p.model_dim(), G = gate_count(op), dirs = directions(p);
  const auto x = in.at("x").as<float>();
  const auto w_ih = in.at("w_ih").as<float>(), w_hh = in.at("w_hh").as<float>();
  const auto b_ih = in.at("b_ih").as<float>(), b_hh = in.at("b_hh").as<float>();
  const auto h0 = in.at("h0").as<float>();
  const float* c0 = op == Op::lstm ? in.at("c0").as<float>().data() : nullptr;
  Tensor out(DataType::f64, output_spec(op, p).shape);
  const auto o = out.as<double>();
#pragma omp parallel for collapse(2)
  for (std::int64_t dir = 0; dir < dirs; ++dir)
    for (std::int64_t b = 0; b < B; ++b) {
      const float* Wi = w_ih.data() + dir * G * E * E;  // [G*E, E]
      const float* Wh = w_hh.data() + dir * G * E * E;
      const float* bi = b_ih.data() + dir * G * E;
      const float* bh = b_hh.data() + dir * G * E;
      std::vector<double> h(E), c(E, 0.0), xi(G * E), hh(G * E);
      for (std::int64_t j = 0; j < E; ++j) {
        h[std::size_t(j)] = h0[std::size_t((dir * B + b) * E + j)];
        if (c0) c[std::size_t(j)] = c0[(dir * B + b) * E + j];
      }
      for (std::int64_t step = 0; step < L; ++step) {
        const std::int64_t t = dir == 0 ? step : L - 1 - step;
        const float* xt = x.data() + (b * L + t) * E;
        // xi = W_ih x + b_ih and hh = W_hh h + b_hh, kept apart for GRU's n gate.
        for (std::int64_t r = 0; r < G * E; ++r) {
          double a = bi[r], s = bh[r];
          for (std::int64_t col = 0; col < E; ++col) {
            a += double(Wi[r * E + col]) * double(xt[col]);
            s += double(Wh[r * E + col]) * h[std::size_t(col)];
          }
          xi[std::size_t(r)] = a;
          hh[std::size_t(r)] = s;
        }
        auto pre = [&](std::int64_t gate, std::int64_t j) {
          return xi[std::size_t(gate * E + j)] + hh[std::size_t(gate * E + j)];
        };
        for (std::int64_t j = 0; j < E; ++j) {
          double hj;
          if (op == Op::lstm) {
            const double i = sigmoid(pre(0, j)), f = sigmoid(pre(1, j)), g = std::tanh(pre(2, j)),
                         og = sigmoid(pre(3, j));
            c[std::size_t(j)] = f * c[std::size_t(j)] + i * g;
            hj = og * std::tanh(c[std::size_t(j)]);
          } else if (op == Op::gru) {
            const double r = sigmoid(pre(0, j)), z = sigmoid(pre(1, j));
            const double n = std::tanh(xi[std::size_t(2 * E + j)] + r * hh[std::size_t(2 * E + j)]);
            hj = (1 - z) * n + z * h[std::size_t(j)];
          } else {
            hj = std::tanh(pre(0, j));
          }
          o[std::size_t((b * L + t) * dirs * E + dir * E + j)] = hj;
        }
        // The new h replaces the old only after every unit has read the old one.
        for (std::int64_t j = 0; j < E; ++j) h[std::size_t(j)] = o[std::size_t((b * L + t) * dirs * E + dir * E + j)];
      }
    }
  return out;
}

}  // namespace attnbench
