// Issue 5's RNN baselines: their per-step products measured as the kernels call them, beside the
// references the targets are stated against (kernels/rnn/recurrent.cpp, docs/PERFORMANCE.md):
//   step_sgemv/G/E     B = 1: cblas_sgemv over the packed W_hh [G*E, E], bytes/s of reading W_hh
//   stream_read/G/E    an AVX2 streaming read of the same bytes: the rate sgemv could reach at best
//   step_packed/G/E/B  the kernels' product on W_hh packed once (kernels/rnn/recurrent_weights.hpp): the
//                      micro-kernel's tiles at B > 1, sgemv over rows at B = 1, FLOP/s and bytes/s of W_hh
//   step_tiles_b1/G/E  B = 1 on the tiles instead of sgemv (why the kernels pack rows for B = 1), FLOP/s
//   step_sgemm/G/E/B   cblas_sgemm h[B, E] . W_hh^T (what the kernels called before: OpenBLAS packs all
//                      of W_hh on every call), FLOP/s; B = 256 shows how much of the cost is that packing
//   step_sgemm_wt/G/E  the transposed orientation HW^T = W_hh . h^T (M = G*E, N = 64), FLOP/s
//   pack_w_hh/G/E      packing W_hh once into the tiles (set-up cost), bytes/s of W_hh
//   sgemm_2048         cblas_sgemm 2048^3: the calibrated SGEMM peak (docs/PERFORMANCE.md, machine peaks)
// One thread (OpenBLAS held to 1). Run interleaved on a shared machine:
//   attnbench_baseline_bench --benchmark_enable_random_interleaving=true --benchmark_repetitions=5
//                            --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "../kernels/rnn/recurrent_weights.hpp"
#include "attnbench/blas_threads.hpp"
#include "machine_context.hpp"

namespace {

struct Weights {
  explicit Weights(std::int64_t rows, std::int64_t cols) : w(std::size_t(rows * cols)) {
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.001f * float(i % 7);
  }
  std::vector<float> w;
};

void step_sgemv(benchmark::State& state) {
  const attnbench::BlasThreads single(1);
  const std::int64_t G = state.range(0), E = state.range(1), rows = G * E;
  const Weights W(rows, E);
  std::vector<float> h(std::size_t(E), 0.1f), y(static_cast<std::size_t>(rows));
  for (auto _ : state) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, int(rows), int(E), 1.0f, W.w.data(), int(E), h.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * rows * E * 4);
}

void stream_read(benchmark::State& state) {
  const std::int64_t n = state.range(0) * state.range(1) * state.range(1);
  const Weights W(n / 64 * 64, 1);
  for (auto _ : state) {
#if defined(__AVX2__)
    const float* p = W.w.data();
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i + 32 <= W.w.size(); i += 32) {
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    benchmark::DoNotOptimize(s);
#else
    float s = 0;
    for (float x : W.w) s += x;
    benchmark::DoNotOptimize(s);
#endif
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(W.w.size()) * 4);
}

void set_flops(benchmark::State& state, std::int64_t B, std::int64_t rows, std::int64_t E) {
  state.counters["FLOPS"] = benchmark::Counter(2.0 * double(B * rows * E) * double(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

// The kernels' product at batch B on weights packed for batch `layout_batch` (the kernels pack for their
// own B: rows for sgemv at B = 1, the micro-kernel's tiles otherwise).
void run_packed(benchmark::State& state, std::int64_t G, std::int64_t E, std::int64_t B, std::int64_t layout_batch) {
  namespace bk = attnbench::kernels::blocked;
  const attnbench::BlasThreads single(1);
  const std::int64_t rows = G * E;
  const Weights W(rows, E);
  const attnbench::kernels::RecurrentWeights packed(W.w.data(), G, E, layout_batch, bk::micro_kernels(bk::select_isa()));
  std::vector<float> h(std::size_t(B * E), 0.1f);
  attnbench::Tensor hw(attnbench::DataType::f32, {packed.tiles() * G * B * attnbench::kernels::kUnitTile});
  for (auto _ : state) {
    packed.multiply(h.data(), E, B, 0, packed.tiles(), hw.as<float>().data());
    benchmark::DoNotOptimize(hw.raw());
  }
  set_flops(state, B, rows, E);
  state.SetBytesProcessed(std::int64_t(state.iterations()) * rows * E * 4);
}

void step_packed(benchmark::State& state) {
  run_packed(state, state.range(0), state.range(1), state.range(2), state.range(2));
}

// B = 1 on the tiles (what the kernels would run without the sgemv layout): the micro-kernel's one-row case.
void step_tiles_b1(benchmark::State& state) { run_packed(state, state.range(0), state.range(1), 1, 64); }

void step_sgemm(benchmark::State& state) {
  const attnbench::BlasThreads single(1);
  const std::int64_t G = state.range(0), E = state.range(1), B = state.range(2), rows = G * E;
  const Weights W(rows, E);
  std::vector<float> h(std::size_t(B * E), 0.1f), y(static_cast<std::size_t>(B * rows));
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(B), int(rows), int(E), 1.0f, h.data(), int(E),
                W.w.data(), int(E), 0.0f, y.data(), int(rows));
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, B, rows, E);
}

void step_sgemm_wt(benchmark::State& state) {
  const attnbench::BlasThreads single(1);
  const std::int64_t G = state.range(0), E = state.range(1), B = 64, rows = G * E;
  const Weights W(rows, E);
  std::vector<float> h(std::size_t(B * E), 0.1f), y(static_cast<std::size_t>(B * rows));
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(B), int(E), 1.0f, W.w.data(), int(E),
                h.data(), int(E), 0.0f, y.data(), int(B));
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, B, rows, E);
}

void pack_w_hh(benchmark::State& state) {
  namespace bk = attnbench::kernels::blocked;
  const std::int64_t G = state.range(0), E = state.range(1);
  const Weights W(G * E, E);
  for (auto _ : state) {
    const attnbench::kernels::RecurrentWeights packed(W.w.data(), G, E, 64, bk::micro_kernels(bk::select_isa()));
    benchmark::DoNotOptimize(&packed);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * G * E * E * 4);
}

void sgemm_2048(benchmark::State& state) {
  const attnbench::BlasThreads single(1);
  const int n = 2048;
  std::vector<float> a(std::size_t(n) * n, 0.5f), b(std::size_t(n) * n, 0.25f), c(static_cast<std::size_t>(n) * n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * n * double(n) * n * double(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

// (gates, model_dim): LSTM and GRU at D = 512 and 1024.
void shapes(benchmark::internal::Benchmark* b) {
  for (std::int64_t g : {4, 3})
    for (std::int64_t e : {512, 1024}) b->Args({g, e});
  b->ArgNames({"G", "E"})->UseRealTime();
}

// (gates, model_dim, batch): LSTM and GRU at D = 512 and 1024, at the batches in `batches`.
template <std::int64_t... batches>
void batched_shapes(benchmark::internal::Benchmark* b) {
  for (std::int64_t g : {4, 3})
    for (std::int64_t e : {512, 1024})
      for (std::int64_t batch : {batches...}) b->Args({g, e, batch});
  b->ArgNames({"G", "E", "B"})->UseRealTime();
}

BENCHMARK(step_sgemv)->Apply(shapes);
BENCHMARK(stream_read)->Apply(shapes);
BENCHMARK(step_packed)->Apply(batched_shapes<1, 64, 256>);
BENCHMARK(step_sgemm)->Apply(batched_shapes<64, 256>);
BENCHMARK(step_tiles_b1)->Apply(shapes);
BENCHMARK(step_sgemm_wt)->Apply(shapes);
BENCHMARK(pack_w_hh)->Apply(shapes);
BENCHMARK(sgemm_2048)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  attnbench::bench::add_machine_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
