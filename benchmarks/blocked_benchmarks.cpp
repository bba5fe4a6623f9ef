// Google Benchmark program for the blocked kernels (issue 3's targets): the whole kernels on the issue's
// shapes at chosen thread counts, each micro-kernel on one tile (the two tile products, the softmax
// updates, K/V packing), the fast exp2, and cblas_sgemm on the projection shapes (the GEMM the
// projections use). Rates are counters: FLOPS (useful flops as
// SEMANTICS.md counts them), bytes_per_second (io_bytes, the compulsory traffic: decode's figure of
// merit), and for micro-kernels the flops of the tile.
//
//   attnbench_blocked_bench [--problems=b1_h16_sq4096_d64,...] [--kernels=mha.blocked.*] [--threads=1,2]
//                           [benchmark flags, e.g. --benchmark_filter=Tile --benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels/attention/blocked/microkernels.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "bench_args.hpp"
#include "machine_context.hpp"

namespace {

using attnbench::bench::split_commas;
using attnbench::bench::take_flag;

using namespace attnbench;
namespace bk = attnbench::kernels::blocked;

// Issue 3's shapes: B=1, H=16, d=64 and 128 over sequence length, causal at 4096, the decode step, and
// cross-attention of few queries over long keys (the streamed path).
constexpr const char* kDefaultProblems =
    "b1_h16_sq2048_d64,b1_h16_sq4096_d64,b1_h16_sq8192_d64,b1_h16_sq4096_d64_causal,"
    "b1_h16_sq2048_d128,b1_h16_sq4096_d128,b1_h32_sq1_skv65536_d128,b1_h16_sq64_skv16384_d128";

void bench_kernel(benchmark::State& state, const Kernel* kernel, Problem p, int threads) {
  const Support support = kernel->supports(p);
  if (!support.ok) {
    state.SkipWithError(support.reason.c_str());
    return;
  }
  RunContext ctx;
  ctx.threads = threads;
  const TensorSet inputs = make_inputs(p, 42);
  Tensor out = make_output(p);
  std::unique_ptr<PreparedKernel> prepared = kernel->prepare(p, inputs, ctx);
  for (auto _ : state) {
    prepared->run(inputs, out);
    benchmark::DoNotOptimize(out.raw());
    benchmark::ClobberMemory();
  }
  const double it = double(state.iterations());
  state.counters["FLOPS"] = benchmark::Counter(flops(p, kv_lengths_of(p, inputs)).total() * it, benchmark::Counter::kIsRate);
  state.SetBytesProcessed(std::int64_t(double(io_bytes(p)) * it));
  // Not "threads": Google Benchmark writes its own "threads" key in the same JSON object.
  state.counters["kernel_threads"] = kernel->effective_threads(ctx);
}

// A 64-byte aligned, randomly filled float buffer.
struct Buffer {
  explicit Buffer(std::int64_t n, float scale = 1.0f)
      : data(static_cast<float*>(std::aligned_alloc(64, std::size_t((n * 4 + 63) / 64 * 64)))) {
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.0f, scale);
    for (std::int64_t i = 0; i < n; ++i) data[i] = normal(gen);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* data;
};

// S = Q K^T for one br x 64 tile (br = 48: the kernels' Q tile).
void BM_ScoresTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t d = state.range(0), rows = 48;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer q(rows * d), k(bk::kBc * d), s(rows * bk::kBc);
  for (auto _ : state) {
    mk.scores_dot(q.data, d, rows, k.data, d, s.data);
    benchmark::DoNotOptimize(s.data);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * rows * bk::kBc * d * double(state.iterations()), benchmark::Counter::kIsRate);
}

// O = alpha O + P V for one 48 x 64 tile of P.
void BM_PvTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t dv = state.range(0), rows = 48;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer p(rows * bk::kBc, 0.1f), v(bk::kBc * dv), o(rows * dv), alpha(rows, 0.0f);
  for (std::int64_t r = 0; r < rows; ++r) alpha.data[r] = 1.0f;
  for (auto _ : state) {
    mk.accumulate_pv(p.data, rows, v.data, dv, alpha.data, o.data);
    benchmark::DoNotOptimize(o.data);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * rows * bk::kBc * dv * double(state.iterations()), benchmark::Counter::kIsRate);
}

// The online-softmax update of one 48 x 64 tile (its cost per score is what the blocked kernel pays on
// top of the two products).
void BM_SoftmaxTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t rows = 48;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer s(rows * bk::kBc, 3.0f), m(rows), l(rows), alpha(rows);
  for (std::int64_t r = 0; r < rows; ++r) m.data[r] = 10.0f, l.data[r] = 1.0f;
  // Repeated on its own output (probabilities in (0, 1]): the work does not depend on the values.
  for (auto _ : state) {
    mk.softmax_tile(s.data, rows, m.data, l.data, alpha.data);
    benchmark::DoNotOptimize(s.data);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * rows * bk::kBc);  // scores per second
}

// The lazy update of one 48 x 64 tile (P against unchanged maxima; what most tiles pay instead).
void BM_SoftmaxLazyTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t rows = 48;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer s(rows * bk::kBc, 3.0f), p(rows * bk::kBc), m(rows), sums(rows);
  for (std::int64_t r = 0; r < rows; ++r) m.data[r] = 10.0f;  // above every score: the lazy update applies
  bool ok = true;
  for (auto _ : state) {
    ok &= mk.softmax_lazy(s.data, rows, m.data, p.data, sums.data);
    benchmark::DoNotOptimize(p.data);
    benchmark::ClobberMemory();
  }
  if (!ok) state.SkipWithError("a score exceeded the lazy-rescale slack");
  state.SetItemsProcessed(std::int64_t(state.iterations()) * rows * bk::kBc);  // scores per second
}

// Packing of one K tile (transposed into 16-key panels) and one V tile (16-column panels), from rows
// H * d floats apart as in the [batch, seq, heads, dim] layout (H = 16: rows 4 KB apart at d = 64).
// Bytes: the tile read once and written once.
void BM_PackKTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t d = state.range(0), stride = 16 * d;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer src(bk::kBc * stride), dst(bk::kBc * d);
  for (auto _ : state) {
    mk.pack_k(src.data, stride, bk::kBc, d, dst.data);
    benchmark::DoNotOptimize(dst.data);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * 2 * bk::kBc * d * std::int64_t(sizeof(float)));
}

void BM_PackVTile(benchmark::State& state, bk::Isa isa) {
  const std::int64_t dv = state.range(0), dvp = bk::round_up(dv, bk::kPanel), stride = 16 * dv;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer src(bk::kBc * stride), dst(bk::kBc * dvp);
  for (auto _ : state) {
    mk.pack_v(src.data, stride, bk::kBc, dv, dvp, dst.data);
    benchmark::DoNotOptimize(dst.data);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * 2 * bk::kBc * dv * std::int64_t(sizeof(float)));
}

void BM_Exp2(benchmark::State& state, bk::Isa isa) {
  const std::int64_t n = 4096;
  const bk::MicroKernels& mk = bk::micro_kernels(isa);
  Buffer x(n, 10.0f), y(n);
  for (auto _ : state) {
    mk.exp2(x.data, y.data, n);
    benchmark::DoNotOptimize(y.data);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * n);
}

// y = x W^T as the projections call it (one cblas_sgemm of M x N x K), on `threads` BLAS threads.
void BM_Sgemm(benchmark::State& state) {
  const int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2)), threads = int(state.range(3));
  Buffer x(std::int64_t(m) * k), w(std::int64_t(n) * k), y(std::int64_t(m) * n);
  const int previous = openblas_get_num_threads();
  openblas_set_num_threads(threads);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x.data, k, w.data, k, 0.0f, y.data, n);
    benchmark::DoNotOptimize(y.data);
    benchmark::ClobberMemory();
  }
  openblas_set_num_threads(previous);
  state.counters["FLOPS"] = benchmark::Counter(2.0 * m * n * k * double(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string problems_text = take_flag(argc, argv, "problems").value_or(kDefaultProblems);
  const std::string kernels_text = take_flag(argc, argv, "kernels").value_or("mha.blocked.*");
  const std::string threads_text = take_flag(argc, argv, "threads").value_or("1,2");
  std::vector<Problem> problems;
  std::vector<int> thread_counts;
  try {
    for (const std::string& s : split_commas(problems_text)) problems.push_back(parse_problem(s));
    for (const std::string& s : split_commas(threads_text)) {
      const auto threads = attnbench::bench::whole_number(s, 1);
      if (!threads || *threads > 4096) throw std::invalid_argument("--threads: '" + s + "' is not a thread count (1..4096)");
      thread_counts.push_back(int(*threads));
    }
  } catch (const std::exception& e) {
    std::cerr << "attnbench_blocked_bench: " << e.what() << "\n";
    return 2;
  }
  std::vector<const Kernel*> kernels;
  if (!attnbench::bench::kernels_matching(kernels_text, "attnbench_blocked_bench", kernels)) return 2;
  for (const Problem& p : problems)
    for (const Kernel* k : kernels)
      for (int t : thread_counts) {
        if (k->info().caps.parallelism == Parallelism::serial && t != thread_counts.front()) continue;
        const int threads = k->info().caps.parallelism == Parallelism::serial ? 1 : t;
        benchmark::RegisterBenchmark((k->id() + "/" + p.str() + "/threads:" + std::to_string(threads)).c_str(),
                                     bench_kernel, k, p, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
  std::vector<bk::Isa> isas{bk::Isa::generic};
  if (bk::isa_supported(bk::Isa::avx2)) isas.push_back(bk::Isa::avx2);
  for (bk::Isa isa : isas) {
    const std::string suffix = std::string("/") + bk::to_string(isa);
    benchmark::RegisterBenchmark(("ScoresTile" + suffix).c_str(), BM_ScoresTile, isa)->Arg(64)->Arg(128);
    benchmark::RegisterBenchmark(("PvTile" + suffix).c_str(), BM_PvTile, isa)->Arg(64)->Arg(128);
    benchmark::RegisterBenchmark(("SoftmaxTile" + suffix).c_str(), BM_SoftmaxTile, isa);
    benchmark::RegisterBenchmark(("SoftmaxLazyTile" + suffix).c_str(), BM_SoftmaxLazyTile, isa);
    benchmark::RegisterBenchmark(("Exp2" + suffix).c_str(), BM_Exp2, isa);
    benchmark::RegisterBenchmark(("PackKTile" + suffix).c_str(), BM_PackKTile, isa)->Arg(64)->Arg(128);
    benchmark::RegisterBenchmark(("PackVTile" + suffix).c_str(), BM_PackVTile, isa)->Arg(64)->Arg(128);
  }
  // Projection GEMMs: BERT-base (512 tokens, E 768) and issue 3's B=1 H=16 d=64 at 4096 tokens (E 1024).
  benchmark::RegisterBenchmark("Sgemm", BM_Sgemm)
      ->ArgNames({"M", "N", "K", "threads"})
      ->Args({512, 768, 768, 1})
      ->Args({4096, 1024, 1024, 1})
      ->Args({4096, 1024, 1024, 2})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("attnbench_problems", problems_text);
  benchmark::AddCustomContext("blocked_isa", bk::to_string(bk::select_isa()));
  attnbench::bench::add_machine_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
