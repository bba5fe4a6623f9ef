// Loading a problem's inputs from a directory of .npy files and saving tensors to one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "attnbench/workload.hpp"
#include "npy.hpp"
#include "test_support.hpp"
#include "tensor_dir.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using attnbench::test_support::TempDir;

namespace {

void expect_identical(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.type(), b.type());
  EXPECT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.bytes(), b.bytes());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.bytes()), 0);
}

/// The NpyError message load_inputs throws, or a marker if it throws nothing.
std::string load_error(const Problem& p, const fs::path& dir) {
  try {
    load_inputs(Op::mha, p, dir, 1);
  } catch (const NpyError& e) {
    return e.what();
  }
  return "<no NpyError>";
}

/// Write int32 lengths as NumPy's default int64, the way users will save them.
void write_int64_lengths(const fs::path& file, const std::vector<std::int64_t>& values) {
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + std::to_string(values.size()) + ",), }\n";
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xFF);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::int64_t));
  std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

Tensor lengths_tensor(const std::vector<std::int32_t>& values) {
  Tensor t(DataType::i32, {std::int64_t(values.size())});
  std::copy(values.begin(), values.end(), t.as<std::int32_t>().begin());
  return t;
}

// Attention core with a padding mask: q [2, 3, 2, 4], k/v [2, 5, 2, 4], lengths [2].
const Problem kPadding = parse_problem("b2_h2_sq3_skv5_d4_padding");
// Full module with every kind of weight: projections and multiplicative scoring.
const Problem kModule = parse_problem("b2_h2_sq3_skv5_d4_padding_multiplicative_proj");

}  // namespace

TEST(TensorDir, RoundTripIsBitIdentical) {
  TempDir dir;
  const fs::path where = dir / "nested/run1";  // parents are created
  const TensorSet inputs = make_inputs(kModule, 42);
  Tensor out = make_output(kModule);
  for (std::size_t i = 0; i < out.as<float>().size(); ++i) out.as<float>()[i] = float(i) * 0.5f;
  save_tensors(where, inputs, &out);

  const LoadedInputs loaded = load_inputs(Op::mha, kModule, where, /*seed=*/999);
  EXPECT_TRUE(loaded.generated.empty());
  ASSERT_EQ(loaded.tensors.all().size(), inputs.all().size());
  for (const auto& [name, tensor] : inputs.all()) {
    SCOPED_TRACE(name);
    expect_identical(loaded.tensors.at(name), tensor);
  }
  expect_identical(read_npy(where / "out.npy"), out);
}

TEST(TensorDir, SaveWithoutOutputWritesOnlyInputs) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  EXPECT_TRUE(fs::exists(dir / "q.npy"));
  EXPECT_TRUE(fs::exists(dir / "lengths.npy"));
  EXPECT_FALSE(fs::exists(dir / "out.npy"));
}

TEST(TensorDir, SaveIntoAFileFails) {
  TempDir dir;
  std::ofstream(dir / "plain").put('x');
  EXPECT_THROW(save_tensors(dir / "plain", make_inputs(kPadding, 1), nullptr), NpyError);
  EXPECT_THROW(save_tensors(dir / "plain/sub", make_inputs(kPadding, 1), nullptr), NpyError);
}

TEST(TensorDir, MissingDirectoryIsNamed) {
  TempDir dir;
  const std::string msg = load_error(kPadding, dir / "nope");
  EXPECT_NE(msg.find((dir / "nope").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("input directory does not exist"), std::string::npos) << msg;
}

TEST(TensorDir, MissingQIsAnError) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  fs::remove(dir / "q.npy");
  const std::string msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find((dir / "q.npy").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("required input 'q' is missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float32 [2, 3, 2, 4]"), std::string::npos) << msg;
}

TEST(TensorDir, MissingLengthsExplainsPaddingMask) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  fs::remove(dir / "lengths.npy");
  const std::string msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("lengths.npy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("int32 [2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("padding mask needs per-batch valid lengths"), std::string::npos) << msg;
}

TEST(TensorDir, WrongShapeNamesBothShapes) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  write_npy(dir / "q.npy", Tensor(DataType::f32, {2, 3, 8}));  // the module's [B, L, E] layout
  std::string msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("q.npy: shape [2, 3, 8] does not match the expected float32 [2, 3, 2, 4]"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("arr.reshape(2, 3, 2, 4)"), std::string::npos) << msg;

  write_npy(dir / "q.npy", Tensor(DataType::f32, {2, 2, 3, 4}));  // PyTorch's [B, H, L, d]
  msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("arr.transpose(0, 2, 1, 3)"), std::string::npos) << msg;

  write_npy(dir / "q.npy", Tensor(DataType::f32, {2, 3, 2, 5}));
  msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("check the problem's sizes"), std::string::npos) << msg;
}

TEST(TensorDir, WrongDtypeIsNotConverted) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  write_npy(dir / "k.npy", Tensor(DataType::f64, {2, 5, 2, 4}));
  const std::string msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("k.npy: dtype '<f8' (float64) is not accepted for 'k'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("save it as float32 (np.float32)"), std::string::npos) << msg;

  write_npy(dir / "k.npy", make_inputs(kPadding, 1).at("k"));
  write_npy(dir / "lengths.npy", Tensor(DataType::f32, {2}));
  EXPECT_NE(load_error(kPadding, dir.path()).find("'<f4' (float32) is not accepted for 'lengths'"), std::string::npos);
}

TEST(TensorDir, AbsentWeightsAreGeneratedFromTheSeed) {
  TempDir dir;
  const TensorSet all = make_inputs(kModule, 7);
  TensorSet activations;
  for (const TensorSpec& spec : input_specs(kModule))
    if (spec.role == TensorRole::input) activations.add(spec.name, make_tensor(kModule, spec, 7));
  save_tensors(dir.path(), activations, nullptr);

  const LoadedInputs loaded = load_inputs(Op::mha, kModule, dir.path(), 7);
  std::vector<std::string> weights;
  for (const TensorSpec& spec : input_specs(kModule))
    if (spec.role == TensorRole::weight) weights.push_back(spec.name);
  ASSERT_FALSE(weights.empty());
  EXPECT_EQ(loaded.generated, weights);  // in input_specs order
  for (const auto& [name, tensor] : all.all()) {
    SCOPED_TRACE(name);
    expect_identical(loaded.tensors.at(name), tensor);  // same data make_inputs gives for the seed
  }
}

TEST(TensorDir, PresentWeightsAreUsedAndOnlyMissingOnesGenerated) {
  TempDir dir;
  TensorSet inputs = make_inputs(kModule, 7);
  save_tensors(dir.path(), inputs, nullptr);
  fs::remove(dir / "w_o.npy");
  const LoadedInputs loaded = load_inputs(Op::mha, kModule, dir.path(), 12345);
  EXPECT_EQ(loaded.generated, std::vector<std::string>{"w_o"});
  expect_identical(loaded.tensors.at("w_q"), inputs.at("w_q"));  // from the file, not the new seed
}

TEST(TensorDir, LengthsOutOfRangeAreRejected) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  write_npy(dir / "lengths.npy", lengths_tensor({2, 9}));
  std::string msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("lengths[1] = 9 is outside [0, seq_kv = 5]"), std::string::npos) << msg;

  write_npy(dir / "lengths.npy", lengths_tensor({-1, 3}));
  msg = load_error(kPadding, dir.path());
  EXPECT_NE(msg.find("lengths[0] = -1 is outside"), std::string::npos) << msg;
}

TEST(TensorDir, Int64LengthsAreAccepted) {
  TempDir dir;
  save_tensors(dir.path(), make_inputs(kPadding, 1), nullptr);
  write_int64_lengths(dir / "lengths.npy", {0, 5});
  const LoadedInputs loaded = load_inputs(Op::mha, kPadding, dir.path(), 1);
  const auto lengths = loaded.tensors.at("lengths").as<std::int32_t>();
  EXPECT_EQ(lengths[0], 0);
  EXPECT_EQ(lengths[1], 5);
}
