// Every registered kernel against the float64 reference, over a list of shapes that exercises every
// descriptor feature; plus determinism, thread-count independence, supports() and the registry itself.
// The suites are parameterised over registry(), so a newly registered kernel is tested here by being
// registered.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "attnbench/check.hpp"
#include "attnbench/kernel.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

// Shapes: odd sizes everywhere (seq 1, 7, 33, 257; head_dim 8, 24, 80; heads 1, 3, 12), every mask and
// score, cross (both ways, incl. causal with seq_q > seq_kv, whose leading rows are empty), decode,
// grouped-query (12:3 and 12:1), value_dim != head_dim, projections on and off. Padding cases have
// batch >= 2 so that the lengths can hold a 0 (set in inputs_for) next to a full length. The float64
// reference is O(B*H*Lq*Lk*d): seq 257 appears with few heads or as decode only.
const std::vector<std::string> kShapes = {
    // self-attention, no mask
    "b1_h1_sq1_d8",
    "b2_h3_sq7_d24",
    "b1_h12_sq33_d8",
    "b1_h1_sq257_d80",
    "b1_h12_sq33_d80",
    // causal / padding
    "b1_h3_sq33_d80_causal",
    "b2_h1_sq257_d24_causal",
    "b3_h3_sq33_d24_padding",
    "b2_h1_sq257_d8_padding",
    // additive / multiplicative with each mask
    "b2_h3_sq33_d24_additive",
    "b1_h1_sq257_d8_causal_additive",
    "b3_h3_sq7_skv33_d8_padding_additive",
    "b2_h3_sq33_d24_multiplicative",
    "b1_h1_sq257_d80_causal_multiplicative",
    "b2_h3_sq7_skv33_d80_padding_multiplicative",
    // cross-attention
    "b2_h3_sq7_skv33_d24",
    "b2_h3_sq33_skv7_d24",
    "b2_h3_sq33_skv7_d24_causal",  // seq_q > seq_kv: rows 0..25 see no key
    "b2_h3_sq7_skv257_d8_causal",
    "b1_h3_sq257_skv33_d8_causal_additive",
    "b2_h3_sq33_skv7_d8_causal_multiplicative",
    // decode
    "b2_h12_sq1_skv257_d80",
    "b2_h12_sq1_skv257_d80_causal",
    "b2_h3_sq1_skv257_d24_padding",
    "b1_h12_sq1_skv257_d8_additive",
    // grouped-query
    "b1_h12_hk3_sq33_d24",
    "b2_h12_hk1_sq33_skv7_d8_causal",
    "b2_h12_hk3_sq1_skv257_d80_causal",
    "b2_h12_hk1_sq7_skv33_d24_padding_additive",
    "b1_h12_hk3_sq1_skv257_d24_multiplicative",
    // value_dim != head_dim
    "b2_h3_sq7_skv33_d24_dv8",
    "b1_h12_hk3_sq33_d8_dv80_multiplicative",
    "b2_h3_sq33_d80_dv24_causal_additive",
    // projections
    "b2_h3_sq7_skv33_d8_proj",
    "b2_h3_sq7_d24_padding_proj",
    "b1_h12_hk3_sq33_d24_dv8_causal_additive_proj",
    "b2_h3_sq1_skv257_d80_padding_proj",
    "b1_h1_sq257_d8_causal_multiplicative_proj",
    "b3_h12_hk1_sq33_skv7_d8_dv24_causal_proj",  // empty rows: the output is b_o there
    // CNN/RNN baselines (model_dim = heads * head_dim; attention kernels refuse ks/dil/ly/bidir, conv1d
    // refuses a kernel longer than the sequence, RNNs refuse ks/dil/ly): kernel sizes 1..5 (4: even,
    // padded as torch's 'same'), dilations 1 and 2, stacks, causal padding, both directions.
    "b1_h1_sq1_d8_ks1",
    "b2_h1_sq7_d24_ks5",
    "b1_h1_sq33_d80_ks5_dil2",
    "b2_h1_sq33_d24_dil2_ly3",
    "b2_h1_sq33_d8_ks4_causal",
    "b3_h1_sq7_d80_ks1_ly2_proj",
    "b2_h1_sq33_d24_ks4_dil2",
    "b1_h1_sq33_d80_bidir",
    "b3_h3_sq7_d8_bidir_proj",
};

constexpr std::uint64_t kSeed = 20240611;

// make_inputs (random, never zeros); a padding mask gets lengths [0, ..., seq_kv] set explicitly so that
// one batch entry is fully masked and one is not masked at all.
// The tensors depend on the kernel's operator (op.hpp): attention's q/k/v, conv1d's x and w_conv, ...
TensorSet inputs_for(Op op, const Problem& p, std::uint64_t seed = kSeed) {
  return op == Op::mha ? test_support::inputs_with_edge_lengths(p, seed) : make_inputs(op, p, seed);
}

// The reference is the slow part: compute it once per (operator, problem, seed) and share it between kernels.
const Tensor& reference_for(Op op, const Problem& p, const TensorSet& in, std::uint64_t seed = kSeed) {
  static std::map<std::string, Tensor> cache;
  const std::string key = std::string(to_string(op)) + "#" + p.str() + "#" + std::to_string(seed);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, reference_forward(op, p, in)).first;
  return it->second;
}

Tensor nan_output(Op op, const Problem& p) {
  Tensor out = make_output(op, p);
  std::fill(out.as<float>().begin(), out.as<float>().end(), std::numeric_limits<float>::quiet_NaN());
  return out;
}

Tensor run_kernel(const Kernel& k, const Problem& p, const TensorSet& in, int threads) {
  RunContext ctx;
  ctx.threads = threads;
  std::unique_ptr<PreparedKernel> prepared = k.prepare(p, in, ctx);
  Tensor out = nan_output(k.info().op, p);  // the kernel must write every element
  prepared->run(in, out);
  return out;
}

Tensor to_f64(const Tensor& t) {
  Tensor d(DataType::f64, t.shape());
  std::copy(t.as<float>().begin(), t.as<float>().end(), d.as<double>().begin());
  return d;
}

// Whether query row i of batch entry b sees at least one key.
bool row_has_keys(const Problem& p, const TensorSet& in, std::int64_t b, std::int64_t i) {
  std::int64_t last = p.seq_kv;  // keys [0, last)
  if (p.mask == Mask::padding) last = in.at("lengths").as<std::int32_t>()[std::size_t(b)];
  if (p.mask == Mask::causal) last = std::min(last, i + (p.seq_kv - p.seq_q) + 1);
  return last > 0;
}

int threads_for(const Kernel& k) { return k.info().caps.parallelism == Parallelism::serial ? 1 : 2; }

struct KernelCase {
  const Kernel* kernel;
  std::string shape;
};

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.kernel->id() << " on " << c.shape; }

std::vector<KernelCase> all_cases() {
  std::vector<KernelCase> cases;
  for (const Kernel* k : registry())
    for (const std::string& s : kShapes) cases.push_back({k, s});
  return cases;
}

std::string case_name(const testing::TestParamInfo<KernelCase>& info) {
  std::string name = info.param.kernel->id() + "__" + info.param.shape;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class KernelVsReference : public testing::TestWithParam<KernelCase> {
 protected:
  void SetUp() override {
    kernel_ = GetParam().kernel;
    op_ = kernel_->info().op;
    problem_ = parse_problem(GetParam().shape);
    const Support s = kernel_->supports(problem_);
    if (!s.ok) GTEST_SKIP() << kernel_->id() << " does not support " << problem_.str() << ": " << s.reason;
  }
  const Kernel* kernel_ = nullptr;
  Op op_ = Op::mha;
  Problem problem_;
};

TEST_P(KernelVsReference, MatchesReferenceWithinTolerance) {
  const Problem& p = problem_;
  const TensorSet in = inputs_for(op_, p);
  const Tensor& ref = reference_for(op_, p, in);
  const Tensor out = run_kernel(*kernel_, p, in, threads_for(*kernel_));
  ASSERT_EQ(out.shape(), output_spec(op_, p).shape);
  const CheckResult r = compare_to_reference(out, ref);
  EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance)
      << "worst element " << r.worst_index << ": " << out.as<float>()[std::size_t(r.worst_index)] << " vs "
      << ref.as<double>()[std::size_t(r.worst_index)] << " (max abs error " << r.max_abs_error << ")";

  // Fully masked rows (attention only): exactly 0 for the core, exactly b_o with projections.
  if (op_ != Op::mha) return;
  const std::int64_t width = output_spec(p).shape.back() * (p.projections ? 1 : p.heads);  // floats per row
  const auto o = out.as<float>();
  int empty_rows = 0;
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < p.seq_q; ++i) {
      if (row_has_keys(p, in, b, i)) continue;
      ++empty_rows;
      for (std::int64_t c = 0; c < width; ++c) {
        const float want = p.projections ? in.at("b_o").as<float>()[std::size_t(c)] : 0.0f;
        ASSERT_EQ(o[std::size_t((b * p.seq_q + i) * width + c)], want)
            << "fully masked row b" << b << " i" << i << " element " << c;
      }
    }
  if (p.mask == Mask::padding) {
    EXPECT_GT(empty_rows, 0) << "the lengths should include a 0";
  }
}

TEST_P(KernelVsReference, RunTwiceIsBitwiseIdentical) {
  const Problem& p = problem_;
  const TensorSet in = inputs_for(op_, p);
  RunContext ctx;
  ctx.threads = threads_for(*kernel_);
  std::unique_ptr<PreparedKernel> prepared = kernel_->prepare(p, in, ctx);
  Tensor first = nan_output(op_, p), second = nan_output(op_, p);
  prepared->run(in, first);
  prepared->run(in, second);
  EXPECT_EQ(std::memcmp(first.raw(), second.raw(), first.bytes()), 0) << "same prepared kernel, same inputs";
  const Tensor fresh = run_kernel(*kernel_, p, in, ctx.threads);
  EXPECT_EQ(std::memcmp(first.raw(), fresh.raw(), first.bytes()), 0) << "a second prepare, same inputs";
}

TEST_P(KernelVsReference, RunReadsNewActivationsOnEveryCall) {
  // run() must read the activations (q, k, v, lengths; x, h0, c0) from the set on every call; weights
  // were packed by prepare.
  const Problem& p = problem_;
  const TensorSet in = inputs_for(op_, p);
  RunContext ctx;
  ctx.threads = threads_for(*kernel_);
  std::unique_ptr<PreparedKernel> prepared = kernel_->prepare(p, in, ctx);
  Tensor out = nan_output(op_, p);
  prepared->run(in, out);

  TensorSet other = make_inputs(op_, p, kSeed + 1);
  for (const TensorSpec& s : input_specs(op_, p))
    if (s.role == TensorRole::weight) std::memcpy(other.at(s.name).raw(), in.at(s.name).raw(), in.at(s.name).bytes());
  if (p.mask == Mask::padding) {  // reversed lengths: the full entry is now the empty one
    auto lengths = other.at("lengths").as<std::int32_t>();
    lengths[0] = std::int32_t(p.seq_kv);
    if (lengths.size() > 1) lengths[lengths.size() - 1] = 0;
  }
  prepared->run(other, out);
  const CheckResult r = compare_to_reference(out, reference_forward(op_, p, other));
  EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance) << "worst element " << r.worst_index;
}

TEST_P(KernelVsReference, ThreadCountDoesNotChangeTheResult) {
  const Parallelism par = kernel_->info().caps.parallelism;
  if (par != Parallelism::openmp && par != Parallelism::tbb)
    GTEST_SKIP() << kernel_->id() << " is " << to_string(par);
  const Problem& p = problem_;
  const TensorSet in = inputs_for(op_, p);
  const Tensor one = run_kernel(*kernel_, p, in, 1);
  const Tensor two = run_kernel(*kernel_, p, in, 2);
  const CheckResult r = compare_to_reference(two, to_f64(one));
  EXPECT_LE(r.max_rel_error, kernel_->info().caps.tolerance) << "threads=2 vs threads=1, element " << r.worst_index;
}

INSTANTIATE_TEST_SUITE_P(Registry, KernelVsReference, testing::ValuesIn(all_cases()), case_name);

// ---------------------------------------------------------------------------------------------------
// supports()

// One probe problem per feature combination, at common sizes (d 64, seq 128) that any kernel's extra
// size limits should accept.
std::vector<Problem> feature_probes() {
  std::vector<Problem> probes;
  for (Mask m : {Mask::none, Mask::causal, Mask::padding})
    for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative})
      for (int shape = 0; shape < 3; ++shape)  // self, cross, decode
        for (int kv : {8, 2})
          for (bool proj : {false, true}) {
            Problem p;
            p.batch = 2;
            p.heads = 8;
            p.kv_heads = kv;
            p.seq_q = shape == 2 ? 1 : 128;
            p.seq_kv = shape == 1 ? 256 : 128;
            p.head_dim = p.value_dim = 64;
            p.mask = m;
            p.score = s;
            p.projections = proj;
            p.validate();
            probes.push_back(p);
          }
  return probes;
}

// What the declared capabilities lack for `p`, or "" if they cover it.
std::string missing_capability(const Capabilities& c, const Problem& p) {
  auto has = [](const auto& list, auto v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  if (!has(c.masks, p.mask)) return "mask";
  if (!has(c.scores, p.score)) return "score";
  if (p.is_cross() && !c.cross) return "cross";
  if (p.kv_heads != p.heads && !c.grouped_query) return "grouped_query";
  if (p.projections && !c.projections) return "projections";
  return "";
}

}  // namespace

void PrintTo(const Kernel* k, std::ostream* os) { *os << (k ? k->id() : "null kernel"); }

namespace {

class KernelSupports : public testing::TestWithParam<const Kernel*> {};

TEST_P(KernelSupports, AgreesWithDeclaredCapabilities) {
  const Kernel& k = *GetParam();
  for (const Problem& p : feature_probes()) {
    const Support s = k.supports(p);
    const std::string missing = missing_capability(k.info().caps, p);
    if (!missing.empty()) {
      EXPECT_FALSE(s.ok) << k.id() << " accepts " << p.str() << " although its capabilities lack " << missing;
      EXPECT_FALSE(s.reason.empty()) << k.id() << " rejects " << p.str() << " without a reason";
    } else {
      EXPECT_TRUE(s.ok) << k.id() << " rejects " << p.str() << ": " << s.reason;
    }
    if (s.ok) {
      EXPECT_GE(k.workspace_bytes(p, RunContext{}), 0) << k.id() << " " << p.str();
    }
  }
}

TEST_P(KernelSupports, InfoIsComplete) {
  const Kernel& k = *GetParam();
  const KernelInfo& info = k.info();
  EXPECT_FALSE(info.description.empty()) << k.id();
  EXPECT_FALSE(info.caps.masks.empty()) << k.id();
  EXPECT_FALSE(info.caps.scores.empty()) << k.id();
  EXPECT_GT(info.caps.tolerance, 0) << k.id();
  EXPECT_LT(info.caps.tolerance, 1e-2) << k.id() << ": a tolerance this loose hides real bugs";
  RunContext ctx;
  ctx.threads = 4;
  EXPECT_EQ(k.effective_threads(ctx), info.caps.parallelism == Parallelism::serial ? 1 : 4);
  ctx.threads = 0;
  EXPECT_EQ(k.effective_threads(ctx), 1);
}

std::string kernel_name(const testing::TestParamInfo<const Kernel*>& info) {
  std::string name = info.param->id();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registry, KernelSupports, testing::ValuesIn(registry()), kernel_name);

// A kernel that declares the minimum (no mask, scaled_dot, self-attention, MHA, core only) exercises the
// default Kernel::supports on every feature it lacks, whatever the registered kernels support.
class MinimalKernel final : public Kernel {
 public:
  const KernelInfo& info() const override {
    static const KernelInfo info{"test.minimal.serial", Family::attention, "declares nothing optional", {}};
    return info;
  }
  std::int64_t workspace_bytes(const Problem&, const RunContext&) const override { return 0; }
  std::unique_ptr<PreparedKernel> prepare(const Problem&, const TensorSet&, const RunContext&) const override {
    return nullptr;
  }
};

TEST(DefaultSupports, NamesTheFirstMissingCapability) {
  const MinimalKernel k;
  Problem base;
  base.batch = 2;
  base.heads = base.kv_heads = 4;
  base.seq_q = base.seq_kv = 16;
  base.head_dim = base.value_dim = 8;
  EXPECT_TRUE(k.supports(base).ok);

  struct Probe {
    const char* what;
    Problem p;
    const char* reason_mentions;
  };
  std::vector<Probe> probes;
  Problem p = base;
  p.mask = Mask::causal;
  probes.push_back({"causal", p, "causal"});
  p = base;
  p.mask = Mask::padding;
  probes.push_back({"padding", p, "padding"});
  p = base;
  p.score = Score::additive;
  probes.push_back({"additive", p, "additive"});
  p = base;
  p.score = Score::multiplicative;
  probes.push_back({"multiplicative", p, "multiplicative"});
  p = base;
  p.seq_kv = 32;
  probes.push_back({"cross", p, "cross"});
  p = base;
  p.seq_q = 1;
  probes.push_back({"decode", p, "decode"});
  p = base;
  p.kv_heads = 1;
  probes.push_back({"grouped-query", p, "grouped-query"});
  p = base;
  p.projections = true;
  probes.push_back({"projections", p, "projections"});
  for (const Probe& probe : probes) {
    const Support s = k.supports(probe.p);
    EXPECT_FALSE(s.ok) << probe.what;
    EXPECT_NE(s.reason.find(probe.reason_mentions), std::string::npos) << probe.what << ": '" << s.reason << "'";
  }
  EXPECT_EQ(k.effective_threads(RunContext{8}), 1);
}

// ---------------------------------------------------------------------------------------------------
// The registry

TEST(Registry, IsNotEmptyAndIdsAreUnique) {
  ASSERT_FALSE(registry().empty());
  std::set<std::string> ids;
  for (const Kernel* k : registry()) {
    ASSERT_NE(k, nullptr);
    EXPECT_TRUE(ids.insert(k->id()).second) << "duplicate id " << k->id();
  }
}

// [a-z][a-z0-9]* . [a-z][a-z0-9_]* . [a-z][a-z0-9]* (checked by hand: GCC 12's <regex> trips
// -Wmaybe-uninitialized in the sanitizer build).
bool is_kernel_id(const std::string& id) {
  std::vector<std::string> parts{""};
  for (char c : id) {
    if (c == '.') parts.emplace_back();
    else parts.back().push_back(c);
  }
  if (parts.size() != 3) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string& part = parts[i];
    if (part.empty() || part[0] < 'a' || part[0] > 'z') return false;
    for (char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i == 1 && c == '_'))) return false;
  }
  return true;
}

TEST(Registry, IdsFollowOpAlgorithmBackend) {
  const std::map<std::string, Parallelism> backends = {
      {"serial", Parallelism::serial}, {"omp", Parallelism::openmp}, {"tbb", Parallelism::tbb}, {"mpi", Parallelism::mpi}};
  for (const Kernel* k : registry()) {
    const std::string& id = k->id();
    EXPECT_TRUE(is_kernel_id(id)) << "'" << id << "' is not <op>.<algorithm>.<backend>";
    const std::string backend = id.substr(id.rfind('.') + 1);
    auto it = backends.find(backend);
    if (it != backends.end()) {
      EXPECT_EQ(it->second, k->info().caps.parallelism) << id << " declares " << to_string(k->info().caps.parallelism);
    }
  }
}

TEST(Registry, FindKernel) {
  for (const Kernel* k : registry()) EXPECT_EQ(find_kernel(k->id()), k);
  EXPECT_EQ(find_kernel("mha.naive"), nullptr);
  EXPECT_EQ(find_kernel(""), nullptr);
  ASSERT_NE(find_kernel("mha.naive.serial"), nullptr);
  ASSERT_NE(find_kernel("mha.naive.omp"), nullptr);
}

std::vector<std::string> ids_of(const std::vector<const Kernel*>& kernels) {
  std::vector<std::string> ids;
  for (const Kernel* k : kernels) ids.push_back(k->id());
  return ids;
}

TEST(Registry, SelectKernels) {
  const std::vector<std::string> all = ids_of(registry());
  EXPECT_EQ(ids_of(select_kernels("all")), all);

  std::vector<std::string> mha, attention, omp;
  for (const Kernel* k : registry()) {
    if (k->id().rfind("mha.", 0) == 0) mha.push_back(k->id());
    if (k->info().family == Family::attention) attention.push_back(k->id());
    if (k->id().size() > 4 && k->id().substr(k->id().size() - 4) == ".omp") omp.push_back(k->id());
  }
  EXPECT_EQ(ids_of(select_kernels("mha.*")), mha);
  EXPECT_FALSE(mha.empty());
  EXPECT_EQ(ids_of(select_kernels("attention")), attention);
  EXPECT_EQ(ids_of(select_kernels("*.omp")), omp);
  EXPECT_EQ(ids_of(select_kernels("mha.naive.serial")), std::vector<std::string>{"mha.naive.serial"});
  EXPECT_EQ(ids_of(select_kernels("mha.naive.?mp")), std::vector<std::string>{"mha.naive.omp"});
  EXPECT_TRUE(select_kernels("nothing").empty());
  EXPECT_TRUE(select_kernels("").empty());
  EXPECT_TRUE(select_kernels("mha.naive").empty());  // a prefix is not a match
  EXPECT_EQ(ids_of(select_kernels("*")), all);
}

TEST(Registry, ClosestKernelIds) {
  const std::vector<std::string> close = closest_kernel_ids("mha.naive.seral");
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "mha.naive.serial");
  EXPECT_LE(close.size(), 3u);
  EXPECT_EQ(closest_kernel_ids("mha.naive.omp", 1), std::vector<std::string>{"mha.naive.omp"});
  EXPECT_EQ(closest_kernel_ids("x", 100).size(), registry().size());
}

}  // namespace
}  // namespace attnbench
