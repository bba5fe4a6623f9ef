// Google Benchmark over the kernel registry: one benchmark per (registered kernel, problem), so every
// registered kernel is benchmarked by being registered. Output is Google Benchmark's own (console,
// --benchmark_format=json), with GFLOP/s, bytes/s and tokens/s as rate counters and the machine and build
// facts as context. Its JSON (--benchmark_out=F --benchmark_repetitions=N) is what `attnbench compare` reads.
//
//   attnbench_gbench [--problems=b1_h8_sq512_d64,b1_h8_sq512_d64_causal] [--kernels=mha.*] [benchmark flags]
#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "attnbench/cost_model.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "bench_args.hpp"
#include "machine_context.hpp"

namespace {

using attnbench::bench::split_commas;
using attnbench::bench::take_flag;

using namespace attnbench;

// Default shapes: small enough to finish in seconds per kernel on a laptop; override with --problems.
// b1_h8_sq512_d64: one BERT-base-sized layer's attention at half its 512 context with 8 heads.
constexpr const char* kDefaultProblems =
    "b1_h8_sq512_d64,b1_h8_sq512_d64_causal,b1_h8_sq1_skv2048_d64,b1_h8_sq256_d64_proj";

void bench_case(benchmark::State& state, const Kernel* kernel, Problem p) {
  const Support support = kernel->supports(p);
  if (!support.ok) {
    state.SkipWithError(support.reason.c_str());
    return;
  }
  RunContext ctx;
  ctx.threads = int(state.threads() > 1 ? state.threads() : std::max(1u, std::thread::hardware_concurrency()));
  const Op op = kernel->info().op;  // attention reads q/k/v, the baselines x and their weights
  const TensorSet inputs = make_inputs(op, p, 42);
  Tensor out = make_output(op, p);
  std::unique_ptr<PreparedKernel> prepared;
  try {
    prepared = kernel->prepare(p, inputs, ctx);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    prepared->run(inputs, out);
    benchmark::DoNotOptimize(out.raw());
    benchmark::ClobberMemory();
  }
  const double iterations = double(state.iterations());
  state.counters["FLOPS"] = benchmark::Counter(flops(op, p, kv_lengths_of(p, inputs)).total() * iterations, benchmark::Counter::kIsRate);
  state.counters["tokens"] = benchmark::Counter(double(query_tokens(p)) * iterations, benchmark::Counter::kIsRate);
  state.SetBytesProcessed(std::int64_t(double(io_bytes(op, p)) * iterations));
  // Not "threads": Google Benchmark writes its own "threads" key in the same JSON object.
  state.counters["kernel_threads"] = kernel->effective_threads(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string problems_text = take_flag(argc, argv, "problems").value_or(kDefaultProblems);
  const std::string kernels_text = take_flag(argc, argv, "kernels").value_or("all");
  std::vector<Problem> problems;
  std::vector<const Kernel*> kernels;
  try {
    for (const std::string& s : split_commas(problems_text)) problems.push_back(parse_problem(s));
  } catch (const ProblemError& e) {
    std::cerr << "attnbench_gbench: --problems: " << e.what() << "\n";
    return 2;
  }
  if (!attnbench::bench::kernels_matching(kernels_text, "attnbench_gbench", kernels)) return 2;
  for (const Problem& p : problems)
    for (const Kernel* k : kernels)
      benchmark::RegisterBenchmark((k->id() + "/" + p.str()).c_str(), bench_case, k, p)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("attnbench_problems", problems_text);
  attnbench::bench::add_machine_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
