// The mpi kernels under mpirun (registered in tests/CMakeLists.txt at P = 1, 2, 3, 4): each matches
// the float64 reference on odd sizes (heads and sequences not divisible by P, causal, padding with an
// empty and a full entry, cross, grouped-query, value_dim != head_dim, projections), each rank sends
// exactly the bytes comm_volume.hpp predicts, and splits a strategy cannot make are refused with a
// message. Every rank runs every test (the kernels are collective); failures are reported by rank 0
// and the exit status is agreed by all ranks.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attnbench/check.hpp"
#include "attnbench/comm_log.hpp"
#include "attnbench/comm_volume.hpp"
#include "attnbench/partition.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "mpi_test_support.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::world_rank;
using test_support::world_size;

const char* strategy_of(const Kernel& k) {
  if (k.id() == "mha.tp.mpi") return "tp";
  if (k.id() == "mha.ring.mpi") return "ring";
  return "ulysses";
}

const std::vector<std::string> kShapes = {
    "b2_h5_sq13_d24",                        // 5 heads, 13 rows: uneven over 2, 3, 4 ranks
    "b1_h6_hk3_sq17_skv23_d8_dv16_causal",   // grouped-query, cross, causal, dv != d
    "b3_h4_sq11_d8_padding",                 // lengths 0, random, 11
    "b1_h3_sq301_d16_causal",                // several KV tiles per ring block, zig-zag
    "b2_h4_sq1_skv40_d8",                    // decode (the ring refuses it beyond one rank)
    "b2_h4_sq15_d8_multiplicative",
    "b1_h4_sq13_d8_causal_additive",         // tp and ulysses only
    "b2_h4_sq19_d24_causal_proj",
    "b3_h6_hk2_sq9_skv14_d8_padding_proj",   // grouped-query + padding with projections
};

struct MpiCase {
  const Kernel* kernel;
  std::string shape;
};

void PrintTo(const MpiCase& c, std::ostream* os) { *os << c.kernel->id() << " on " << c.shape; }

std::vector<MpiCase> mpi_cases() {
  std::vector<MpiCase> cases;
  for (const Kernel* k : registry())
    if (k->info().caps.parallelism == Parallelism::mpi)
      for (const std::string& s : kShapes) cases.push_back({k, s});
  return cases;
}

class MpiKernel : public testing::TestWithParam<MpiCase> {
 protected:
  void SetUp() override {
    kernel_ = GetParam().kernel;
    p_ = parse_problem(GetParam().shape);
    ctx_.comm = MPI_COMM_WORLD;
    ctx_.threads = 1;
    if (!kernel_->supports(p_).ok) GTEST_SKIP() << kernel_->supports(p_).reason;
  }
  const Kernel* kernel_ = nullptr;
  Problem p_;
  RunContext ctx_;
};

TEST_P(MpiKernel, MatchesReferenceOrRefusesTheSplit) {
  const Support s = kernel_->supports_run(p_, ctx_);
  const std::string refusal = partition_refusal(strategy_of(*kernel_), p_, world_size());
  EXPECT_EQ(s.ok, refusal.empty()) << s.reason;
  if (!s.ok) {
    EXPECT_EQ(s.reason, refusal);
    EXPECT_NE(s.reason.find("ranks"), std::string::npos) << s.reason;
    TensorSet in = make_inputs(p_, 7);
    try {
      kernel_->prepare(p_, in, ctx_);
      ADD_FAILURE() << "prepare accepted a split supports_run refuses";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(kernel_->id()), std::string::npos) << e.what();
    }
    return;
  }
  const TensorSet in = test_support::inputs_with_edge_lengths(p_, 20240611);
  std::unique_ptr<PreparedKernel> prepared = kernel_->prepare(p_, in, ctx_);
  Tensor out = make_output(p_);
  std::fill(out.as<float>().begin(), out.as<float>().end(), std::numeric_limits<float>::quiet_NaN());
  prepared->run(in, out);
  prepared->collect_output(out);
  if (world_rank() == 0) {
    const CheckResult r = compare_to_reference(out, reference_forward(p_, in));
    EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance) << "worst element " << r.worst_index;
  }
  // A second run with other activations (same weights) must read them; and two threads per rank
  // (OpenMP workers beside the thread that drives MPI) give the same answer.
  TensorSet other = make_inputs(p_, 99);
  for (const TensorSpec& spec : input_specs(p_))
    if (spec.role == TensorRole::weight) std::memcpy(other.at(spec.name).raw(), in.at(spec.name).raw(), in.at(spec.name).bytes());
  prepared->run(other, out);
  prepared->collect_output(out);
  RunContext two = ctx_;
  two.threads = 2;
  Tensor out2 = make_output(p_);
  std::unique_ptr<PreparedKernel> threaded = kernel_->prepare(p_, other, two);
  threaded->run(other, out2);
  threaded->collect_output(out2);
  if (world_rank() == 0) {
    const Tensor ref = reference_forward(p_, other);
    CheckResult r = compare_to_reference(out, ref);
    EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance) << "second inputs, worst element " << r.worst_index;
    r = compare_to_reference(out2, ref);
    EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance) << "two threads per rank, worst element " << r.worst_index;
  }
}

TEST_P(MpiKernel, SendsExactlyTheAnalyticVolume) {
  if (!kernel_->supports_run(p_, ctx_).ok) GTEST_SKIP() << "refused split";
  const TensorSet in = test_support::inputs_with_edge_lengths(p_, 5);
  std::unique_ptr<PreparedKernel> prepared = kernel_->prepare(p_, in, ctx_);
  Tensor out = make_output(p_);
  CommLog* log = prepared->comm_log();
  ASSERT_NE(log, nullptr);
  log->reset();
  constexpr int kRuns = 2;
  for (int i = 0; i < kRuns; ++i) prepared->run(in, out);
  EXPECT_EQ(log->forwards, kRuns);
  const std::vector<PhaseVolume> want = comm_volume_of_rank(strategy_of(*kernel_), p_, world_size(), world_rank());
  ASSERT_EQ(log->phases.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(log->phases[i].phase, want[i].phase);
    EXPECT_EQ(log->phases[i].bytes, kRuns * want[i].bytes_sent_per_rank) << want[i].phase << " on rank " << world_rank();
    EXPECT_EQ(log->phases[i].messages, kRuns * want[i].messages_per_rank) << want[i].phase << " on rank " << world_rank();
    EXPECT_GE(log->phases[i].seconds, 0.0);
  }
  EXPECT_GT(log->compute_seconds, 0.0);
}

std::string case_name(const testing::TestParamInfo<MpiCase>& info) {
  std::string name = info.param.kernel->id() + "__" + info.param.shape;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registry, MpiKernel, testing::ValuesIn(mpi_cases()), case_name);

}  // namespace
}  // namespace attnbench

// main(): tests/mpi_gtest_main.cpp (MPI around GoogleTest).
