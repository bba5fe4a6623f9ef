// A problem's tensors as a directory of .npy files: loading inputs, saving inputs and output.
#include "tensor_dir.hpp"

#include <stdexcept>
#include <system_error>

#include "attnbench/workload.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

std::string spec_str(const TensorSpec& s) { return std::string(to_string(s.type)) + " " + shape_str(s.shape); }

/// NumPy's spelling of a tensor type, for "save it as ..." advice.
const char* numpy_type(DataType t) {
  switch (t) {
    case DataType::f32: return "np.float32";
    case DataType::f64: return "np.float64";
    case DataType::i32: return "np.int32";
  }
  return "?";
}

/// "2, 16, 4, 8": a shape as arguments of arr.reshape(...).
std::string reshape_args(const Shape& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out;
}

void require_input_directory(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found)
    throw NpyError(dir, "input directory does not exist; pass the directory that holds q.npy, k.npy and v.npy");
  if (ec) throw NpyError(dir, "cannot access the input directory: " + ec.message());
  if (st.type() != fs::file_type::directory)
    throw NpyError(dir, "is not a directory; pass the directory that holds q.npy, k.npy and v.npy");
}

/// False only when `file` certainly does not exist; any other doubt is left for read_npy to report.
bool present(const fs::path& file) {
  std::error_code ec;
  const bool exists = fs::exists(file, ec);
  return exists || ec;
}

[[noreturn]] void missing_input(const Problem& p, const TensorSpec& spec, const fs::path& file) {
  std::string msg = "required input '" + spec.name + "' is missing (expected " + spec_str(spec) + " for " + p.str() + ")";
  if (spec.name == "lengths")
    msg += "; a padding mask needs per-batch valid lengths: integers of shape [batch], each in [0, seq_kv]";
  msg += "; save it with np.save('" + file.string() + "', arr.astype(" + numpy_type(spec.type) + "))";
  throw NpyError(file, msg);
}

/// Advice for an array of the right size but the wrong shape.
std::string shape_hint(const Shape& found, const Shape& wanted) {
  // PyTorch keeps attention tensors as [batch, heads, seq, dim]; a reshape would scramble those.
  if (wanted.size() == 4 && wanted[1] != wanted[2] && found == Shape{wanted[0], wanted[2], wanted[1], wanted[3]})
    return "; it looks like [batch, heads, seq, dim] (PyTorch's layout): attnbench wants [batch, seq, heads, dim], "
           "so save arr.transpose(0, 2, 1, 3)";
  if (element_count(found) == element_count(wanted))
    return "; the element count matches: if the data is already in this row-major order, save arr.reshape(" +
           reshape_args(wanted) + ")";
  return "; check the problem's sizes against the array";
}

/// Throw NpyError unless `t`, read from `file`, has exactly the dtype and shape of `spec`.
void check_matches(const Problem& p, const TensorSpec& spec, const Tensor& t, const fs::path& file) {
  if (t.type() != spec.type) {
    // Name the dtype as stored (e.g. an int64 q arrives here as int32 after narrowing).
    const std::string found = describe_npy_dtype(read_npy_header(file).descr);
    const std::string advice =
        spec.type == DataType::i32
            ? "save it as integers (np.int32 or np.int64)"
            : std::string("save it as ") + to_string(spec.type) + " (" + numpy_type(spec.type) +
                  "); it is not converted silently because that would hide precision differences";
    throw NpyError(file, "dtype " + found + " is not accepted for '" + spec.name + "', which is " +
                             to_string(spec.type) + "; " + advice);
  }
  if (t.shape() != spec.shape)
    throw NpyError(file, "shape " + shape_str(t.shape()) + " does not match the expected " + spec_str(spec) + " of '" +
                             spec.name + "' for " + p.str() + shape_hint(t.shape(), spec.shape));
}

/// A tensor name must be a plain file name: it becomes `<name>.npy` inside the directory.
void check_file_name(const std::string& name, const fs::path& dir) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw NpyError(dir, "tensor name '" + name + "' cannot be used as a file name");
}

}  // namespace

LoadedInputs load_inputs(Op op, const Problem& p, const std::filesystem::path& dir, std::uint64_t seed) {
  require_input_directory(dir);
  LoadedInputs loaded;
  for (const TensorSpec& spec : input_specs(op, p)) {
    const fs::path file = dir / (spec.name + ".npy");
    if (!present(file)) {
      if (spec.role == TensorRole::input) missing_input(p, spec, file);
      // Weights are optional so a user can supply only activations and still get a reproducible run.
      loaded.tensors.add(spec.name, make_tensor(p, spec, seed));
      loaded.generated.push_back(spec.name);
      continue;
    }
    Tensor t = read_npy(file);
    check_matches(p, spec, t, file);
    loaded.tensors.add(spec.name, std::move(t));
  }
  // Shapes and types are checked above; this adds the value checks (lengths within [0, seq_kv]).
  try {
    validate_inputs(op, p, loaded.tensors);
  } catch (const std::invalid_argument& e) {
    throw NpyError(dir, std::string(e.what()) + "; fix the arrays in this directory or the problem's sizes");
  }
  return loaded;
}

void save_tensors(const std::filesystem::path& dir, const TensorSet& inputs, const Tensor* out) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw NpyError(dir, "cannot create the output directory: " + ec.message());
  if (!fs::is_directory(dir, ec)) throw NpyError(dir, "exists but is not a directory; choose another output path");
  if (out && inputs.has("out"))
    throw NpyError(dir, "an input tensor named 'out' would collide with the output file out.npy");
  for (const auto& [name, tensor] : inputs.all()) {
    check_file_name(name, dir);
    write_npy(dir / (name + ".npy"), tensor);
  }
  if (out) write_npy(dir / "out.npy", *out);
}

}  // namespace attnbench
