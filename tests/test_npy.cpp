// .npy reading and writing: round trips, files written by NumPy itself, and malformed files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using attnbench::test_support::TempDir;

namespace {

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

/// A .npy image with the given header text (taken verbatim, no padding) and data bytes.
std::string npy_image(const std::string& header, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out += char(major);
  out += char(0);
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < len_bytes; ++i) out += char((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
}

/// Little-endian bytes of `values` (the host is little-endian, see npy.cpp).
template <class T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

/// The NpyError message read_npy throws for `file`, or a marker if it throws nothing.
std::string read_error(const fs::path& file) {
  try {
    read_npy(file);
  } catch (const NpyError& e) {
    return e.what();
  }
  return "<no NpyError>";
}

/// A tensor of `type` and `shape` holding distinct values, including NaN, -0 and infinity for
/// floats so the round trip is checked bit for bit.
Tensor sample_tensor(DataType type, const Shape& shape) {
  Tensor t(type, shape);
  const std::int64_t n = t.size();
  if (type == DataType::i32) {
    auto v = t.as<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) v[i] = std::int32_t(i * 7919 - 100000);
    return t;
  }
  const auto fill = [n](auto v) {
    using T = typename decltype(v)::value_type;
    for (std::int64_t i = 0; i < n; ++i) v[i] = T(i) * T(0.25) - T(3);  // exact, so FMA contraction cannot change it
    const T specials[] = {std::numeric_limits<T>::quiet_NaN(), T(-0.0), std::numeric_limits<T>::infinity()};
    for (std::int64_t i = 0; i < n && i < 3; ++i) v[i] = specials[i];
  };
  if (type == DataType::f32) fill(t.as<float>());
  else fill(t.as<double>());
  return t;
}

void expect_identical(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.type(), b.type());
  EXPECT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.bytes(), b.bytes());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.bytes()), 0);
}

bool have_numpy() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

/// Run a Python script (written to a file, so no shell quoting) in `dir`; returns its exit status.
int run_python(const TempDir& dir, const std::string& script) {
  const fs::path file = dir / "script.py";
  write_bytes(file, script);
  const std::string cmd = "cd '" + dir.path().string() + "' && /usr/bin/python3 '" + file.string() + "'";
  return std::system(cmd.c_str());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(Npy, RoundTripEveryDtypeAndShape) {
  TempDir dir;
  const std::vector<Shape> shapes = {{}, {7}, {3, 5}, {2, 3, 4, 5}, {3, 0, 2}, {0}};
  for (DataType type : {DataType::f32, DataType::f64, DataType::i32}) {
    for (const Shape& shape : shapes) {
      SCOPED_TRACE(std::string(to_string(type)) + " " + shape_str(shape));
      const fs::path file = dir / "t.npy";
      const Tensor t = sample_tensor(type, shape);
      write_npy(file, t);
      expect_identical(read_npy(file), t);
      const NpyHeader h = read_npy_header(file);
      EXPECT_EQ(h.data_offset % 64, 0u) << "data must start on a 64-byte boundary";
      EXPECT_EQ(h.major_version, 1);
      EXPECT_EQ(fs::file_size(file), h.data_offset + t.bytes());
    }
  }
}

TEST(Npy, WriteReplacesExistingFileAndLeavesNoTemporaries) {
  TempDir dir;
  const fs::path file = dir / "x.npy";
  write_npy(file, sample_tensor(DataType::f64, {100}));
  const Tensor second = sample_tensor(DataType::i32, {2, 2});
  write_npy(file, second);
  expect_identical(read_npy(file), second);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"x.npy"});
}

TEST(Npy, WriteIntoMissingDirectoryNamesPathAndReason) {
  TempDir dir;
  const fs::path file = dir / "no/such/dir/q.npy";
  try {
    write_npy(file, sample_tensor(DataType::f32, {2}));
    FAIL() << "expected NpyError";
  } catch (const NpyError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(Npy, WriteOverADirectoryFailsAndCleansUp) {
  TempDir dir;
  fs::create_directory(dir / "taken.npy");
  EXPECT_THROW(write_npy(dir / "taken.npy", sample_tensor(DataType::f32, {2})), NpyError);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file must be removed after a failed write";
}

TEST(Npy, WriteIntoReadOnlyDirectoryFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions do not stop writes";
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  try {
    write_npy(dir / "q.npy", sample_tensor(DataType::f32, {2}));
    ADD_FAILURE() << "expected NpyError";
  } catch (const NpyError& e) {
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
  fs::permissions(dir.path(), fs::perms::owner_all);
}

TEST(Npy, WriteRejectsTensorWithoutStorage) {
  TempDir dir;
  try {
    write_npy(dir / "e.npy", Tensor());
    FAIL() << "expected NpyError";
  } catch (const NpyError& e) {
    EXPECT_NE(std::string(e.what()).find("without storage"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "e.npy"));
}

// ---------------------------------------------------------------------------------------------
// Headers the reader must accept

TEST(Npy, AcceptsHeaderVariants) {
  TempDir dir;
  const std::string data = raw_bytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  const std::vector<std::string> headers = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(40, ' ') + "\n",
      "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}",        // any order, double quotes
      "  {  'shape' :(2,3,) ,'descr':'<f4','fortran_order':False}\n\n",        // spacing, trailing commas
      "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3)}",            // native order
      "{'descr': '|f4', 'fortran_order': False, 'shape': (2L, 3L), }",        // Python 2 long extents
  };
  for (std::size_t i = 0; i < headers.size(); ++i) {
    for (int major : {1, 2, 3}) {
      SCOPED_TRACE(headers[i] + " version " + std::to_string(major));
      const fs::path file = dir / ("v" + std::to_string(i) + ".npy");
      write_bytes(file, npy_image(headers[i], data, major));
      const Tensor t = read_npy(file);
      ASSERT_EQ(t.type(), DataType::f32);
      EXPECT_EQ(t.shape(), (Shape{2, 3}));
      EXPECT_EQ(t.as<float>()[5], 6.0f);
    }
  }
}

TEST(Npy, Int64IsNarrowedToInt32) {
  TempDir dir;
  const std::vector<std::int64_t> values = {0, 7, -3, 2147483647, -2147483648LL};
  write_bytes(dir / "l.npy", npy_image(dict("<i8", "(5,)"), raw_bytes(values)));
  const Tensor t = read_npy(dir / "l.npy");
  ASSERT_EQ(t.type(), DataType::i32);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(t.as<std::int32_t>()[i], values[i]);
}

TEST(Npy, DescribesDtypes) {
  EXPECT_EQ(describe_npy_dtype("<f8"), "'<f8' (float64)");
  EXPECT_EQ(describe_npy_dtype("<i8"), "'<i8' (int64)");
  EXPECT_EQ(describe_npy_dtype("|u1"), "'|u1' (uint8)");
  EXPECT_EQ(describe_npy_dtype("<c16"), "'<c16' (complex128)");
  EXPECT_EQ(describe_npy_dtype("|b1"), "'|b1' (bool)");
  EXPECT_EQ(describe_npy_dtype("<U5"), "'<U5' (unicode string)");
  EXPECT_EQ(describe_npy_dtype("what"), "'what'");
}

// ---------------------------------------------------------------------------------------------
// Files the reader must reject, each with a message that says what is wrong

struct BadFile {
  const char* name;
  std::string bytes;
  const char* expected;  ///< substring of the NpyError message
};

std::vector<BadFile> bad_files() {
  const std::string f4x2 = raw_bytes(std::vector<float>{1, 2});
  const std::string huge_len = std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}";
  return {
      {"bad_magic", "\x89PNG\r\n\x1a\n this is an image", "does not start with the magic bytes"},
      {"empty", "", "file is empty"},
      {"npz_archive", std::string("PK\x03\x04", 4) + "zip contents", "zip archive"},
      {"version_4", npy_image(dict("<f4", "(2,)"), f4x2).replace(6, 1, 1, '\x04'), "unsupported .npy format version 4.0"},
      {"truncated_prefix", std::string("\x93NUMPY\x01\x00\x40", 9), "header is truncated"},
      {"truncated_header", npy_image(dict("<f4", "(2,)"), "").substr(0, 30), "header is truncated: it declares"},
      {"header_len_absurd", huge_len, "more than any np.save header"},
      {"truncated_data", npy_image(dict("<f4", "(4,)"), f4x2), "needs 16 bytes but only 8 are present"},
      {"wrong_dtype_f2", npy_image(dict("<f2", "(2,)"), "abcd"), "'<f2' (float16) is not accepted"},
      {"wrong_dtype_c8", npy_image(dict("<c8", "(1,)"), f4x2), "'<c8' (complex64) is not accepted"},
      {"big_endian", npy_image(dict(">f4", "(2,)"), f4x2), "big-endian"},
      {"fortran_order", npy_image(dict("<f4", "(1, 2)", "True"), f4x2), "Fortran (column-major) order"},
      {"garbage_header", npy_image("this is not a dict at all\n", f4x2), "malformed header"},
      {"unterminated_dict", npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", f4x2),
       "malformed header"},
      {"unterminated_string", npy_image("{'descr': '<f4, 'fortran_order': False}", f4x2), "malformed header"},
      {"missing_key", npy_image("{'descr': '<f4', 'fortran_order': False}", f4x2), "missing key 'shape'"},
      {"unknown_key", npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", f4x2),
       "unexpected key 'extra'"},
      {"duplicate_key", npy_image("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", f4x2),
       "key 'descr' appears twice"},
      {"shape_not_tuple", npy_image(dict("<f4", "(2)"), f4x2), "not a tuple"},
      {"shape_list", npy_image(dict("<f4", "[2]"), f4x2), "malformed header"},
      {"fortran_not_bool", npy_image(dict("<f4", "(2,)", "0"), f4x2), "must be True or False"},
      {"structured_dtype", npy_image("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}", f4x2),
       "structured (record) dtypes are not accepted"},
      {"negative_shape", npy_image(dict("<f4", "(2, -1)"), f4x2), "negative extent"},
      {"huge_shape_tiny_file", npy_image(dict("<f4", "(1000000000, 1000000000)"), f4x2),
       "needs 4000000000000000000 bytes but only 8 are present"},
      {"overflowing_shape", npy_image(dict("<f4", "(4611686018427387904, 4611686018427387904, 0)"), ""),
       "is too large"},
      {"overflowing_extent", npy_image(dict("<f4", "(99999999999999999999,)"), f4x2), "is too large"},
      {"trailing_bytes", npy_image(dict("<f4", "(2,)"), f4x2 + "xyz!"), "4 bytes of trailing data"},
      {"int64_out_of_range", npy_image(dict("<i8", "(2,)"), raw_bytes(std::vector<std::int64_t>{1, 1LL << 40})),
       "int64 value 1099511627776 at flat index 1 does not fit in int32"},
  };
}

TEST(Npy, RejectsBadFilesWithClearMessages) {
  TempDir dir;
  for (const BadFile& bad : bad_files()) {
    SCOPED_TRACE(bad.name);
    const fs::path file = dir / (std::string(bad.name) + ".npy");
    write_bytes(file, bad.bytes);
    const std::string msg = read_error(file);
    EXPECT_NE(msg.find(bad.expected), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(file.string() + ": ", 0), 0u) << "the message must start with the file: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(Npy, RejectsMissingFileAndDirectory) {
  TempDir dir;
  EXPECT_NE(read_error(dir / "absent.npy").find("file does not exist"), std::string::npos);
  EXPECT_NE(read_error(dir.path()).find("is a directory"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Interoperability with NumPy itself (fixtures generated at test time, none checked in)

TEST(Npy, ReadsFilesWrittenByNumPy) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
  TempDir dir;
  ASSERT_EQ(run_python(dir, R"PY(
import numpy as np
np.save('f4.npy', (np.arange(24, dtype=np.float32) * 0.5).reshape(2, 3, 4))
np.save('f8.npy', np.arange(6, dtype=np.float64) / 7)
np.save('i4.npy', np.array([-5, 0, 5], dtype=np.int32))
np.save('i8.npy', np.array([3, 0, 7]))                    # NumPy's default integer: int64
np.save('scalar.npy', np.float32(2.5))
np.save('empty.npy', np.zeros((3, 0, 2), np.float32))
np.save('strided.npy', np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2])
for version in [(1, 0), (2, 0), (3, 0)]:
    with open('v%d.npy' % version[0], 'wb') as f:
        np.lib.format.write_array(f, np.arange(5, dtype=np.float32), version=version)
np.save('fortran.npy', np.asfortranarray(np.ones((2, 3), np.float32)))
np.save('big.npy', np.arange(3, dtype='>f4'))
np.save('half.npy', np.arange(3, dtype=np.float16))
np.savez('arch.npz', a=np.ones(2))
)PY"),
            0);

  const Tensor f4 = read_npy(dir / "f4.npy");
  ASSERT_EQ(f4.type(), DataType::f32);
  EXPECT_EQ(f4.shape(), (Shape{2, 3, 4}));
  for (std::int64_t i = 0; i < f4.size(); ++i) EXPECT_EQ(f4.as<float>()[i], float(i) * 0.5f);

  const Tensor f8 = read_npy(dir / "f8.npy");
  ASSERT_EQ(f8.type(), DataType::f64);
  for (std::int64_t i = 0; i < f8.size(); ++i) EXPECT_EQ(f8.as<double>()[i], double(i) / 7);

  EXPECT_EQ(read_npy(dir / "i4.npy").as<std::int32_t>()[0], -5);
  const Tensor i8 = read_npy(dir / "i8.npy");
  ASSERT_EQ(i8.type(), DataType::i32);
  EXPECT_EQ(std::vector<std::int32_t>(i8.as<std::int32_t>().begin(), i8.as<std::int32_t>().end()),
            (std::vector<std::int32_t>{3, 0, 7}));

  const Tensor scalar = read_npy(dir / "scalar.npy");
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.as<float>()[0], 2.5f);
  EXPECT_EQ(read_npy(dir / "empty.npy").shape(), (Shape{3, 0, 2}));

  const Tensor strided = read_npy(dir / "strided.npy");  // np.save writes a C-order copy
  EXPECT_EQ(strided.shape(), (Shape{3, 2}));
  EXPECT_EQ(strided.as<float>()[3], 6.0f);

  for (int v : {1, 2, 3}) {
    const fs::path file = dir / ("v" + std::to_string(v) + ".npy");
    EXPECT_EQ(read_npy_header(file).major_version, v);
    EXPECT_EQ(read_npy(file).as<float>()[4], 4.0f);
  }

  EXPECT_NE(read_error(dir / "fortran.npy").find("Fortran"), std::string::npos);
  EXPECT_NE(read_error(dir / "big.npy").find("big-endian"), std::string::npos);
  EXPECT_NE(read_error(dir / "half.npy").find("float16"), std::string::npos);
  EXPECT_NE(read_error(dir / "arch.npz").find("zip archive"), std::string::npos);
}

TEST(Npy, NumPyReadsFilesWeWrite) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
  TempDir dir;
  write_npy(dir / "f4.npy", sample_tensor(DataType::f32, {2, 3, 4, 5}));
  write_npy(dir / "f8.npy", sample_tensor(DataType::f64, {7}));
  write_npy(dir / "i4.npy", sample_tensor(DataType::i32, {3, 2}));
  write_npy(dir / "scalar.npy", sample_tensor(DataType::f32, {}));
  write_npy(dir / "empty.npy", sample_tensor(DataType::f32, {4, 0}));
  // The script rebuilds sample_tensor's values and exits non-zero on any difference.
  EXPECT_EQ(run_python(dir, R"PY(
import numpy as np, sys
def sample(dtype, shape):
    n = int(np.prod(shape))
    if dtype == np.int32:
        return (np.arange(n, dtype=np.int64) * 7919 - 100000).astype(np.int32).reshape(shape)
    v = np.arange(n).astype(dtype) * dtype(0.25) - dtype(3)
    v[:3] = np.array([np.nan, -0.0, np.inf], dtype)[:min(n, 3)]
    return v.reshape(shape)
cases = {'f4': (np.float32, (2, 3, 4, 5)), 'f8': (np.float64, (7,)), 'i4': (np.int32, (3, 2)),
         'scalar': (np.float32, ()), 'empty': (np.float32, (4, 0))}
for name, (dtype, shape) in cases.items():
    a = np.load(name + '.npy')
    b = sample(dtype, shape)
    ok = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() and a.flags.c_contiguous
    if not ok:
        print('mismatch in', name, a.dtype, a.shape, file=sys.stderr)
        sys.exit(1)
)PY"),
            0);
}
