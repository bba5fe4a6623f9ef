#pragma once
/// \file npy.hpp
/// Reading and writing NumPy `.npy` files, the format of `attnbench run --inputs DIR` and
/// `--save-output DIR` (one array per file, as written by `np.save`).
///
/// Accepted on read: format versions 1.0, 2.0 and 3.0; C-order arrays of dtype float32 (`<f4`),
/// float64 (`<f8`), int32 (`<i4`) and int64 (`<i8`, converted to int32 with a range check because
/// NumPy's default integer is int64). Written: version 1.0, little-endian, data 64-byte aligned.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "attnbench/tensor.hpp"

namespace attnbench {

/// A `.npy` file could not be read or written, or its contents do not fit what was asked for.
/// `what()` is one line: the file, what is wrong, and what to do about it.
class NpyError : public std::runtime_error {
 public:
  /// Message becomes "<file>: <problem>".
  NpyError(const std::filesystem::path& file, const std::string& problem);
  /// The file (or directory) the error is about.
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

/// The parsed header of a `.npy` file, before any check of whether attnbench accepts its dtype,
/// byte order or memory order.
struct NpyHeader {
  int major_version = 1;
  int minor_version = 0;
  std::string descr;           ///< NumPy dtype string as stored, e.g. "<f4"
  bool fortran_order = false;
  Shape shape;                 ///< every extent >= 0
  std::uint64_t data_offset = 0;  ///< bytes from the start of the file to the array data
};

/// Read and parse only the header of `file`. Throws NpyError if the file is missing, is not a
/// `.npy` file, or its header is truncated or malformed.
NpyHeader read_npy_header(const std::filesystem::path& file);

/// "'<f8' (float64)": a dtype string as users know it, for error messages.
std::string describe_npy_dtype(const std::string& descr);

/// Read a whole `.npy` file into a tensor. Throws NpyError for anything attnbench cannot use:
/// a missing file, bad magic, unsupported version, truncated or malformed header, unsupported or
/// big-endian dtype, Fortran order, a shape whose data would not fit in the file, data shorter or
/// longer than the shape requires, and int64 values outside int32.
Tensor read_npy(const std::filesystem::path& file);

/// Write `tensor` as a version 1.0 `.npy` file that `np.load` reads back bit for bit. The file is
/// written to a temporary name in the same directory, synced and renamed over `file`, so a crash
/// leaves either the old file or the complete new one. Throws NpyError naming the path and the
/// operating system's reason (missing or unwritable directory, disk full, ...).
void write_npy(const std::filesystem::path& file, const Tensor& tensor);

}  // namespace attnbench
