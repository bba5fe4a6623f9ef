// The append-only JSON Lines results store: open early, append whole lines, fsync, never rewrite.
#include "results_file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>
#include <utility>

namespace attnbench {
namespace {

std::string os_reason(int err) { return std::system_category().message(err); }

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

/// What the user can do when the file cannot be opened, by errno.
std::string open_fix(int err) {
  switch (err) {
    case ENOENT: return "directory does not exist: create it or choose another --out";
    case ENOTDIR: return "a component of the path is not a directory: choose another --out";
    case EISDIR: return "the path is a directory: give a file name, e.g. DIR/results.jsonl";
    case EACCES:
    case EPERM: return "no permission to write there: choose a writable location with --out";
    case EROFS: return "the file system is read-only: choose another --out";
    case ENOSPC:
    case EDQUOT: return "the disk or quota is full: free space or choose another --out";
    case ENAMETOOLONG: return "the path is too long: choose a shorter --out";
    default: return "check the path or choose another --out";
  }
}

/// What the user can do when a record cannot be written, by errno.
std::string write_fix(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT: return "free disk space or raise the quota, then rerun; records already written are intact";
    case EFBIG: return "the file hit a size limit (ulimit -f or the file system's maximum): use a new --out file";
    case EIO: return "the device reported an I/O error: check the disk and rerun with another --out";
    default: return "rerun with another --out; records already written are intact";
  }
}

/// Writes all of `data`, retrying after signals (EINTR) and short writes. Returns 0 or the errno.
int write_all(int fd, const std::string& data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, p, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // write(2) returning 0 for a non-empty buffer makes no progress; retrying would spin forever.
    if (written == 0) return EIO;
    p += written;
    left -= static_cast<std::size_t>(written);
  }
  return 0;
}

/// fsync, treating "this kind of file cannot be synced" (a pipe, /dev/stdout) as success.
int sync_file(int fd) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == EROFS) return 0;
    return errno;
  }
  return 0;
}

/// Whether `path` is a non-empty regular file whose last byte is not '\n': a line torn by a run
/// killed mid-write. False when it cannot tell; the worst case is then one glued line.
bool ends_with_torn_line(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  bool torn = false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    char last = '\n';
    torn = ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
  }
  ::close(fd);
  return torn;
}

/// Holds SIGINT, SIGTERM, SIGHUP and SIGQUIT on this thread while it lives: a signal that arrives
/// meanwhile is delivered when it ends, so a handler that exits cannot cut a record in half.
/// (sweep_interrupt's handlers hand a signal that lands on another thread, e.g. an idle OpenMP one, to
/// the main thread, which writes the records.)
class TerminationSignalsHeld {
 public:
  TerminationSignalsHeld() {
    sigset_t hold;
    sigemptyset(&hold);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&hold, s);
    ::pthread_sigmask(SIG_BLOCK, &hold, &before_);
  }
  ~TerminationSignalsHeld() { ::pthread_sigmask(SIG_SETMASK, &before_, nullptr); }
  TerminationSignalsHeld(const TerminationSignalsHeld&) = delete;
  TerminationSignalsHeld& operator=(const TerminationSignalsHeld&) = delete;

 private:
  sigset_t before_;
};

/// Makes a newly created file's directory entry durable too. Best effort: a failure here only
/// matters on power loss, and the data itself is synced on every append.
void sync_parent_directory(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

ResultsFile::ResultsFile(std::filesystem::path path) : path_(std::move(path)) {
  if (path_.empty()) {
    throw ResultsFileError("results file: no path given: pass a file name such as --out results.jsonl");
  }
  std::error_code ec;
  const bool existed = std::filesystem::exists(path_, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    throw ResultsFileError("cannot open results file " + quoted(path_) + ": " + os_reason(err) + " (" +
                           open_fix(err) + ")");
  }
  if (!existed) sync_parent_directory(path_);
}

ResultsFile::~ResultsFile() {
  if (fd_ >= 0) ::close(fd_);
}

ResultsFile::ResultsFile(ResultsFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), check_tail_(other.check_tail_) {}

ResultsFile& ResultsFile::operator=(ResultsFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    check_tail_ = other.check_tail_;
  }
  return *this;
}

void ResultsFile::append(const nlohmann::json& record) {
  if (fd_ < 0) throw ResultsFileError("results file " + quoted(path_) + ": append after the file was moved from");
  // One buffer, one write loop: with O_APPEND the line lands whole at the end of the file.
  std::string line;
  if (check_tail_ && ends_with_torn_line(path_)) line = "\n";
  // Replace invalid UTF-8 rather than throw: losing a measured record over one bad byte is worse.
  line += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';

  // Until this line is fully written and synced, the file may end in a torn line of our own.
  check_tail_ = true;
  struct stat before {};
  const bool sized = ::fstat(fd_, &before) == 0 && S_ISREG(before.st_mode);
  int err = 0;
  {
    const TerminationSignalsHeld held;  // a Ctrl-C now ends the process after the line, not inside it
    err = write_all(fd_, line);
    if (err == 0) err = sync_file(fd_);
  }
  if (err != 0) {
    // A short write (disk full, a file size limit) leaves part of the line: cut it off, so the file
    // holds exactly the records it held before (best effort; a reader skips a torn line anyway).
    if (sized) (void)::ftruncate(fd_, before.st_size);
    throw ResultsFileError("cannot append to results file " + quoted(path_) + ": " + os_reason(err) + " (" +
                           write_fix(err) + ")");
  }
  check_tail_ = false;
}

const std::filesystem::path& ResultsFile::path() const { return path_; }

namespace {

std::string line_warning(const std::filesystem::path& path, std::size_t line_no, const std::string& what) {
  return path.string() + ":" + std::to_string(line_no) + ": " + what + "; skipped";
}

/// Why `line` is not a record, or "" when it is one (then `record` holds it).
std::string check_line(const std::string& line, bool has_newline, nlohmann::json& record) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return "empty line";
  record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    return has_newline ? "not valid JSON (torn or corrupted line)"
                       : "torn last line (no final newline: a run was probably killed mid-write)";
  }
  if (!record.is_object()) return "valid JSON but not an object (every record is a JSON object)";
  return "";
}

}  // namespace

std::vector<nlohmann::json> read_results(const std::filesystem::path& path, std::vector<std::string>* warnings) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || std::filesystem::is_directory(path, ec)) {
    const int err = std::filesystem::is_directory(path, ec) ? EISDIR : (errno != 0 ? errno : EIO);
    throw ResultsFileError("cannot read results file " + quoted(path) + ": " + os_reason(err) +
                           " (check the path; results files are written with --out)");
  }
  std::vector<nlohmann::json> records;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    nlohmann::json record;
    const std::string problem = check_line(line, !in.eof(), record);
    if (problem.empty()) {
      records.push_back(std::move(record));
    } else if (warnings != nullptr) {
      warnings->push_back(line_warning(path, line_no, problem));
    }
  }
  if (in.bad()) {
    throw ResultsFileError("cannot read results file " + quoted(path) + ": I/O error while reading (check the disk)");
  }
  return records;
}

}  // namespace attnbench
