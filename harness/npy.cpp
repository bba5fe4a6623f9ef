// NumPy .npy reading and writing (format versions 1.0-3.0 in, 1.0 out).
// Format reference: numpy/lib/format.py's docstring ("NPY format").
#include "npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace attnbench {

// Tensors hold native-order data and np.save writes little-endian data on every platform attnbench
// targets (x86-64, AArch64, ppc64le), so bytes are copied as they are. A build error on a big-endian
// host is better than byte-swapping code that no test would ever run.
static_assert(std::endian::native == std::endian::little, "attnbench's .npy I/O assumes a little-endian host");

NpyError::NpyError(const std::filesystem::path& file, const std::string& problem)
    : std::runtime_error(file.string() + ": " + problem), file_(file) {}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic{"\x93NUMPY", 6};
// np.save writes headers of a few hundred bytes at most; refusing longer ones keeps a corrupt or
// hostile length field from making us read megabytes of "header".
constexpr std::uint32_t kMaxHeaderLen = 1u << 20;
constexpr std::size_t kAlign = 64;  // NumPy aligns the array data to 64 bytes

std::string os_reason(int err) { return std::strerror(err); }

// ---------------------------------------------------------------------------------------------
// File descriptors

/// Owns a POSIX file descriptor (closed on destruction unless closed explicitly).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Take ownership of `fd`, closing the one held before.
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  /// Close now and return 0 or errno: close() can report a deferred write error (NFS, quotas).
  int close() {
    const int r = ::close(std::exchange(fd_, -1));
    return r == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// Read up to `n` bytes at `offset`; fewer only at end of file. Throws NpyError on an I/O error.
std::size_t read_at(int fd, std::uint64_t offset, void* buf, std::size_t n, const fs::path& file) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, static_cast<char*>(buf) + done, n - done, off_t(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw NpyError(file, "cannot read: " + os_reason(errno));
    if (r == 0) break;
    done += std::size_t(r);
  }
  return done;
}

/// Write all `n` bytes; returns 0 or errno (ENOSPC when the disk is full).
int write_all(int fd, const void* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::write(fd, static_cast<const char*>(buf) + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    done += std::size_t(r);
  }
  return 0;
}

struct OpenFile {
  Fd fd;
  std::uint64_t size;
};

/// Open `file` for reading, with messages for the usual mistakes (wrong path, a directory).
OpenFile open_for_reading(const fs::path& file) {
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  if (st.type() == fs::file_type::not_found)
    throw NpyError(file, "file does not exist; check the path (arrays are saved with np.save(path, array))");
  if (ec) throw NpyError(file, "cannot access: " + ec.message());
  if (st.type() == fs::file_type::directory) throw NpyError(file, "is a directory, not a .npy file");
  if (st.type() != fs::file_type::regular)
    throw NpyError(file, "is not a regular file; pass a .npy file written by np.save");
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw NpyError(file, "cannot open: " + os_reason(errno));
  struct stat sb {};
  if (::fstat(fd.get(), &sb) != 0) throw NpyError(file, "cannot stat: " + os_reason(errno));
  return {std::move(fd), std::uint64_t(sb.st_size)};
}

// ---------------------------------------------------------------------------------------------
// Header dictionary

/// The header text is not a valid dict literal; the reader adds the file name and a snippet.
struct HeaderSyntax {
  std::string detail;
  std::size_t pos;
};
/// The header is well-formed but holds something attnbench cannot represent.
struct HeaderUnsupported {
  std::string problem;
};

/// Recursive-descent parser for the Python dict literal np.save writes, e.g.
///   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// It accepts what Python's literal syntax allows there (either quote, any spacing, trailing commas,
/// keys in any order) and nothing else. NumPy itself uses ast.literal_eval; we never evaluate.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  NpyHeader parse() {
    NpyHeader h;
    bool has_descr = false, has_order = false, has_shape = false;
    skip_space();
    expect('{', "'{': the header must be a Python dict");
    skip_space();
    while (!eat('}')) {
      const std::string key = parse_string("a quoted key");
      skip_space();
      expect(':', "':' after the key");
      skip_space();
      if (key == "descr") {
        once(has_descr, key);
        h.descr = parse_descr();
      } else if (key == "fortran_order") {
        once(has_order, key);
        h.fortran_order = parse_bool(key);
      } else if (key == "shape") {
        once(has_shape, key);
        h.shape = parse_shape();
      } else {
        fail("unexpected key '" + key + "' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");
      }
      skip_space();
      if (eat(',')) {
        skip_space();
        continue;
      }
      expect('}', "',' or '}'");
      break;
    }
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the closing '}'");
    if (!has_descr) fail("missing key 'descr'");
    if (!has_order) fail("missing key 'fortran_order'");
    if (!has_shape) fail("missing key 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& detail) const { throw HeaderSyntax{detail, pos_}; }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  bool eat(char c) {
    if (at_end() || peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const std::string& what) {
    if (!eat(c)) fail("expected " + what);
  }
  void once(bool& seen, const std::string& key) {
    if (seen) fail("key '" + key + "' appears twice");
    seen = true;
  }

  /// A '...' or "..." literal without escapes (no NumPy header needs them).
  std::string parse_string(const std::string& what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected " + what);
    const std::size_t start = ++pos_;
    // cppcheck-suppress knownConditionTrueFalse ; peek() reads pos_, which ++pos_ above has advanced
    while (!at_end() && peek() != quote) {
      if (peek() == '\\' || peek() == '\n') fail("unsupported character in a string");
      ++pos_;
    }
    if (at_end()) fail("unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }

  std::string parse_descr() {
    // A list here is a structured (record) dtype such as [('x', '<f4'), ('y', '<i4')].
    if (peek() == '[') throw HeaderUnsupported{"structured (record) dtypes are not accepted; save a plain numeric array"};
    return parse_string("a dtype string such as '<f4' for 'descr'");
  }

  bool parse_bool(const std::string& key) {
    const std::size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    if (word == "True") return true;
    if (word == "False") return false;
    pos_ = start;
    fail("'" + key + "' must be True or False");
  }

  /// A tuple of integers: (), (n,), (a, b, c) or (a, b, c,).
  Shape parse_shape() {
    expect('(', "a tuple such as (2, 3), (5,) or () for 'shape'");
    Shape shape;
    skip_space();
    if (eat(')')) return shape;
    for (;;) {
      shape.push_back(parse_int());
      skip_space();
      if (eat(',')) {
        skip_space();
        if (eat(')')) return shape;
        continue;
      }
      expect(')', "',' or ')' in 'shape'");
      // In Python "(5)" is the number 5, not a tuple; np.load would refuse it too.
      if (shape.size() == 1) fail("'shape' (n) is a number, not a tuple; a 1-d shape is written (n,)");
      return shape;
    }
  }

  std::int64_t parse_int() {
    const bool negative = eat('-');
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected an integer in 'shape'");
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    constexpr std::uint64_t kMax = std::uint64_t(std::numeric_limits<std::int64_t>::max());
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const unsigned digit = unsigned(peek() - '0');
      if (value > (kMax - digit) / 10) {
        const std::size_t end = s_.find_first_not_of("0123456789", start);
        const std::string_view digits = s_.substr(start, end == std::string_view::npos ? end : end - start);
        throw HeaderUnsupported{"shape extent " + std::string(digits.substr(0, 30)) +
                                (digits.size() > 30 ? "..." : "") + " is too large; the file is corrupt"};
      }
      value = value * 10 + digit;
      ++pos_;
    }
    // NumPy under Python 2 wrote extents as long literals: (3L, 4L).
    if (peek() == 'L' || peek() == 'l') ++pos_;
    return negative ? -std::int64_t(value) : std::int64_t(value);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

/// The header for an error message: printable, one line, at most ~80 characters.
std::string header_snippet(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  while (!out.empty() && (out.back() == ' ' || out.back() == '?')) out.pop_back();
  if (text.size() > 80) out += "...";
  return out;
}

/// Read the fixed prefix (magic, version, header length) and the header dict.
NpyHeader read_header(const OpenFile& f, const fs::path& file) {
  unsigned char pre[12] = {};
  const std::size_t n = read_at(f.fd.get(), 0, pre, sizeof pre, file);
  if (n >= 4 && std::memcmp(pre, "PK\x03\x04", 4) == 0)
    throw NpyError(file, "is a zip archive (np.savez writes .npz files); save each array on its own with np.save");
  if (f.size == 0) throw NpyError(file, "file is empty; save the array with np.save");
  if (n < kMagic.size() || std::memcmp(pre, kMagic.data(), kMagic.size()) != 0)
    throw NpyError(file, "not a NumPy .npy file: it does not start with the magic bytes \\x93NUMPY; save arrays with np.save");
  if (n < 8) throw NpyError(file, "header is truncated: the file ends inside the format version");

  NpyHeader h;
  h.major_version = pre[6];
  h.minor_version = pre[7];
  if (h.minor_version != 0 || h.major_version < 1 || h.major_version > 3)
    throw NpyError(file, "unsupported .npy format version " + std::to_string(h.major_version) + "." +
                             std::to_string(h.minor_version) + "; attnbench reads versions 1.0, 2.0 and 3.0 (what np.save writes)");
  // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 (3.0: UTF-8 header) in 4.
  const std::size_t len_bytes = h.major_version == 1 ? 2 : 4;
  if (n < 8 + len_bytes) throw NpyError(file, "header is truncated: the file ends inside the header length");
  std::uint32_t header_len = 0;
  for (std::size_t i = 0; i < len_bytes; ++i) header_len |= std::uint32_t(pre[8 + i]) << (8 * i);
  if (header_len > kMaxHeaderLen)
    throw NpyError(file, "header claims " + std::to_string(header_len) + " bytes, more than any np.save header; the file is corrupt");

  const std::uint64_t header_start = 8 + len_bytes;
  h.data_offset = header_start + header_len;
  if (f.size < h.data_offset)
    throw NpyError(file, "header is truncated: it declares " + std::to_string(header_len) + " bytes but only " +
                             std::to_string(f.size - header_start) + " follow; the file was cut short, save it again");
  std::string text(header_len, '\0');
  if (read_at(f.fd.get(), header_start, text.data(), header_len, file) != header_len)
    throw NpyError(file, "header is truncated: the file shrank while it was being read");

  try {
    NpyHeader parsed = HeaderParser(text).parse();
    parsed.major_version = h.major_version;
    parsed.minor_version = h.minor_version;
    parsed.data_offset = h.data_offset;
    h = std::move(parsed);
  } catch (const HeaderSyntax& e) {
    throw NpyError(file, "malformed header at character " + std::to_string(e.pos) + ": " + e.detail + "; header: \"" +
                             header_snippet(text) + "\"; the file was not written by np.save or is corrupt");
  } catch (const HeaderUnsupported& e) {
    throw NpyError(file, e.problem);
  }
  for (std::int64_t extent : h.shape)
    if (extent < 0) throw NpyError(file, "shape " + shape_str(h.shape) + " has a negative extent; the file is corrupt");
  return h;
}

// ---------------------------------------------------------------------------------------------
// Dtypes

/// How a file's elements are stored and which tensor type they become.
struct FileDtype {
  DataType tensor_type;
  std::size_t item_size;
  bool narrow_int64;  ///< int64 in the file, int32 in the tensor
};

/// Split "<f4" into its byte-order character ('\0' if none) and the rest ("f4").
std::pair<char, std::string_view> split_order(std::string_view descr) {
  if (!descr.empty() && std::string_view("<>|=").find(descr[0]) != std::string_view::npos)
    return {descr[0], descr.substr(1)};
  return {'\0', descr};
}

/// The dtype attnbench reads `descr` as, or NpyError naming what was found and what is accepted.
FileDtype accepted_dtype(const std::string& descr, const fs::path& file) {
  const auto [order, code] = split_order(descr);
  FileDtype t{};
  if (code == "f4") t = {DataType::f32, 4, false};
  else if (code == "f8") t = {DataType::f64, 8, false};
  else if (code == "i4") t = {DataType::i32, 4, false};
  else if (code == "i8") t = {DataType::i32, 8, true};
  else
    throw NpyError(file, "dtype " + describe_npy_dtype(descr) +
                             " is not accepted; attnbench reads float32 ('<f4'), float64 ('<f8'), int32 ('<i4') and "
                             "int64 ('<i8', values must fit in int32): convert with arr.astype(np.float32)");
  // '=' (native) and '|' (not applicable) mean the writer's own order, which is little-endian on
  // every platform attnbench supports (see the static_assert above).
  if (order == '>')
    throw NpyError(file, "dtype " + describe_npy_dtype(descr) + " is big-endian; save it little-endian with arr.astype('<" +
                             std::string(code) + "')");
  return t;
}

/// Bytes of array data `shape` needs, or NpyError if that does not fit in 63 bits.
std::uint64_t data_bytes(const Shape& shape, std::size_t item_size, const fs::path& file) {
  // Multiply the nonzero extents with an overflow check: a zero extent makes the array empty, but
  // Tensor's element_count multiplies in order, so the partial products must not overflow either.
  std::uint64_t product = item_size;
  bool has_zero = false;
  const std::uint64_t limit = std::uint64_t(std::numeric_limits<std::int64_t>::max());
  for (std::int64_t extent : shape) {
    if (extent == 0) {
      has_zero = true;
      continue;
    }
    if (product > limit / std::uint64_t(extent))
      throw NpyError(file, "shape " + shape_str(shape) + " is too large: its data would exceed 2^63 bytes; the file is corrupt");
    product *= std::uint64_t(extent);
  }
  return has_zero ? 0 : product;
}

/// The file's data, narrowed from int64 to int32 with a range check.
void read_narrowed_int64(const OpenFile& f, std::uint64_t offset, Tensor& t, const fs::path& file) {
  auto out = t.as<std::int32_t>();
  std::vector<std::int64_t> chunk(std::min<std::size_t>(out.size(), 1 << 16));
  for (std::size_t first = 0; first < out.size(); first += chunk.size()) {
    const std::size_t count = std::min(chunk.size(), out.size() - first);
    const std::size_t bytes = count * sizeof(std::int64_t);
    if (read_at(f.fd.get(), offset + first * sizeof(std::int64_t), chunk.data(), bytes, file) != bytes)
      throw NpyError(file, "data is truncated: the file shrank while it was being read");
    for (std::size_t i = 0; i < count; ++i) {
      const std::int64_t v = chunk[i];
      if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
        throw NpyError(file, "int64 value " + std::to_string(v) + " at flat index " + std::to_string(first + i) +
                                 " does not fit in int32 (attnbench stores integers as int32); check the values");
      out[first + i] = std::int32_t(v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

std::string npy_descr(DataType t) {
  switch (t) {
    case DataType::f32: return "<f4";
    case DataType::f64: return "<f8";
    case DataType::i32: return "<i4";
  }
  return "?";
}

/// Python tuple syntax: "()", "(5,)", "(2, 3)".
std::string shape_tuple(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

/// Magic, version 1.0, header length and the header dict, padded with spaces and ended by '\n' so
/// the data starts on a 64-byte boundary (NumPy's convention, lets readers memory-map aligned data).
std::string npy_prefix(const Tensor& t, const fs::path& file) {
  std::string dict = "{'descr': '" + npy_descr(t.type()) + "', 'fortran_order': False, 'shape': " +
                     shape_tuple(t.shape()) + ", }";
  const std::size_t fixed = kMagic.size() + 2 + 2;
  const std::size_t unpadded = fixed + dict.size() + 1;  // +1 for the final '\n'
  dict.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  dict += '\n';
  if (dict.size() > 0xFFFF) throw NpyError(file, "shape " + shape_str(t.shape()) + " has too many dimensions for a .npy header");
  std::string out(kMagic);
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xFF);
  out += char(dict.size() >> 8);
  return out + dict;
}

/// A uniquely named temporary file beside the destination; removed again unless released.
class TempFile {
 public:
  TempFile(const fs::path& dir, const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    int err = 0;
    // O_EXCL: never reuse a file someone else (or a crashed earlier run with our pid) left behind.
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = dir / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(counter++));
      fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
      if (fd_.get() >= 0) return;
      err = errno;
      if (err != EEXIST) break;
    }
    path_.clear();
    throw NpyError(target, "cannot create a temporary file in '" + dir.string() + "': " + os_reason(err) +
                               "; check that the directory exists and is writable");
  }
  TempFile(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_.get(); }
  int close() { return fd_.close(); }
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
  Fd fd_;
};

/// Make a completed rename durable: sync the directory entry (best effort, not every file system
/// supports syncing directories, and the data itself is already safe).
void sync_directory(const fs::path& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() >= 0) ::fsync(d.get());
}

}  // namespace

std::string describe_npy_dtype(const std::string& descr) {
  std::string quoted = "'" + descr + "'";  // not const: returned, so moved
  const auto [order, code] = split_order(descr);
  if (code.empty()) return quoted;
  const char kind = code[0];
  const std::string_view digits = code.substr(1);
  const bool sized = !digits.empty() && digits.size() <= 2 &&
                     std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::string bits = sized ? std::to_string(std::stoi(std::string(digits)) * 8) : "";
  std::string name;
  if (sized && kind == 'f') name = "float" + bits;
  else if (sized && kind == 'i') name = "int" + bits;
  else if (sized && kind == 'u') name = "uint" + bits;
  else if (sized && kind == 'c') name = "complex" + bits;
  else if (code == "b1") name = "bool";
  else if (kind == 'U') name = "unicode string";
  else if (kind == 'S') name = "byte string";
  else if (code == "O") name = "Python object";
  else if (kind == 'M') name = "datetime64";
  else if (kind == 'm') name = "timedelta64";
  else if (kind == 'V') name = "raw bytes";
  return name.empty() ? quoted : quoted + " (" + name + ")";
}

NpyHeader read_npy_header(const std::filesystem::path& file) {
  const OpenFile f = open_for_reading(file);
  return read_header(f, file);
}

Tensor read_npy(const std::filesystem::path& file) {
  const OpenFile f = open_for_reading(file);
  const NpyHeader h = read_header(f, file);
  const FileDtype dtype = accepted_dtype(h.descr, file);
  if (h.fortran_order)
    throw NpyError(file, "array is stored in Fortran (column-major) order, 'fortran_order': True; attnbench needs C order: "
                         "save np.ascontiguousarray(arr)");

  // Check the sizes against the file before allocating anything, so a hostile header cannot make
  // us allocate more than the file holds.
  const std::uint64_t need = data_bytes(h.shape, dtype.item_size, file);
  const std::uint64_t have = f.size - h.data_offset;
  const std::string what = "shape " + shape_str(h.shape) + " of " + describe_npy_dtype(h.descr) + " needs " +
                           std::to_string(need) + " bytes";
  if (have < need)
    throw NpyError(file, "data is truncated: " + what + " but only " + std::to_string(have) +
                             " are present; the file was cut short, save it again");
  if (have > need)
    throw NpyError(file, std::to_string(have - need) + " bytes of trailing data after the array (" + what +
                             ", the file holds " + std::to_string(have) + "); save exactly one array per file with np.save");

  Tensor t(dtype.tensor_type, h.shape);
  if (dtype.narrow_int64) {
    read_narrowed_int64(f, h.data_offset, t, file);
  } else if (read_at(f.fd.get(), h.data_offset, t.raw(), t.bytes(), file) != t.bytes()) {
    throw NpyError(file, "data is truncated: the file shrank while it was being read");
  }
  return t;
}

void write_npy(const std::filesystem::path& file, const Tensor& tensor) {
  if (!file.has_filename()) throw NpyError(file, "is not a file name; give a path such as out/q.npy");
  // A default-constructed Tensor claims shape [] (one element) but holds no storage.
  if (tensor.raw() == nullptr)
    throw NpyError(file, "cannot save a tensor without storage (default-constructed); give it a type and shape");

  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const std::string prefix = npy_prefix(tensor, file);
  TempFile tmp(dir, file);
  const auto fail = [&](const std::string& step, int err) {
    throw NpyError(file, "cannot " + step + ": " + os_reason(err) +
                             "; check that the directory is writable and the disk has free space");
  };
  if (int err = write_all(tmp.fd(), prefix.data(), prefix.size())) fail("write", err);
  if (int err = write_all(tmp.fd(), tensor.raw(), tensor.bytes())) fail("write", err);
  // fsync before rename: otherwise a crash could leave the new name pointing at unwritten blocks.
  if (::fsync(tmp.fd()) != 0) fail("sync", errno);
  if (int err = tmp.close()) fail("close", err);
  if (::rename(tmp.path().c_str(), file.c_str()) != 0) fail("rename the temporary file into place", errno);
  tmp.release();
  sync_directory(dir);
}

}  // namespace attnbench
