#include "sweep_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "sweep_interrupt.hpp"

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

/// A running worker: its pid, the write end of its stdin and the read end of its stdout.
class Worker {
 public:
  explicit Worker(const std::vector<std::string>& argv) {
    // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(from_child, O_CLOEXEC) != 0) {
      ::close(to_child[0]), ::close(to_child[1]);
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      const int err = errno;
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
      throw std::runtime_error(std::string("cannot start the sweep worker: fork: ") + std::strerror(err));
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the supervisor, however it ends
      if (::getppid() != parent) ::_exit(127);  // the supervisor died before prctl took effect
      ::signal(SIGINT, SIG_IGN);  // a Ctrl-C reaches the whole process group: the supervisor decides
      ::signal(SIGTERM, SIG_IGN);
      ::signal(SIGPIPE, SIG_DFL);
      ::dup2(to_child[0], STDIN_FILENO);  // dup2 clears close-on-exec on the copies
      ::dup2(from_child[1], STDOUT_FILENO);
      ::execv(args[0], args.data());
      const char message[] = "attnbench: error: cannot exec the sweep worker\n";
      [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    to_ = to_child[1];
    from_ = from_child[0];
  }
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Asks for the cases `group`; false if the worker is gone (its end is then read from the channel).
  bool send(const std::vector<std::size_t>& group) {
    std::string line;
    for (std::size_t index : group) line += (line.empty() ? "" : " ") + std::to_string(index);
    return write_protocol_line(to_, line);
  }

  /// The next complete line from the worker: a line, "" for none yet within `wait`, nullopt at EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds wait) {
    for (;;) {
      const std::size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      const int ready = ::poll(&p, 1, int(wait.count()));
      if (ready <= 0) return std::string();  // timed out or interrupted by a signal: the caller checks
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) return std::string();
      if (n <= 0) eof_ = true;
      else buffer_.append(chunk, std::size_t(n));
    }
  }

  /// Kills the worker (if running) and returns its wait status.
  int kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    return reap();
  }

  /// Waits for the worker to end and returns its wait status.
  int reap() {
    int status = 0;
    if (pid_ > 0) {
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    return status;
  }

  /// No more cases: the worker sees EOF on its stdin and exits.
  void stop() {
    if (to_ >= 0) ::close(to_), to_ = -1;
    reap();
    if (from_ >= 0) ::close(from_), from_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

/// "begin 7" / "record 7 {...}": the verb, the index and the rest.
struct Message {
  std::string verb;
  std::size_t index = 0;
  std::string payload;
};

std::optional<Message> parse_message(const std::string& line) {
  const std::size_t space = line.find(' ');
  if (space == std::string::npos) return std::nullopt;
  Message m;
  m.verb = line.substr(0, space);
  const std::size_t end = line.find(' ', space + 1);
  const std::string number = line.substr(space + 1, end == std::string::npos ? std::string::npos : end - space - 1);
  if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  m.index = std::stoull(number);
  if (end != std::string::npos) m.payload = line.substr(end + 1);
  return m;
}

}  // namespace

std::string timeout_reason(double timeout_s, std::size_t cases) {
  char text[160];
  if (cases > 1)
    std::snprintf(text, sizeof text, "timeout after %g s (--timeout %g s for each of the %zu cases measured side by side)",
                  timeout_s * double(cases), timeout_s, cases);
  else
    std::snprintf(text, sizeof text, "timeout after %g s (--timeout)", timeout_s);
  return text;
}

std::string describe_worker_end(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "crashed: signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
  if (WIFEXITED(status)) return "worker exited with status " + std::to_string(WEXITSTATUS(status));
  return "worker ended (wait status " + std::to_string(status) + ")";
}

bool write_protocol_line(int fd, const std::string& line) {
  const std::string data = line + "\n";
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= std::size_t(n);
  }
  return true;
}

SupervisedRun supervise_cases(const std::vector<std::vector<std::size_t>>& groups, const SupervisorOptions& options,
                              const WorkerEvents& events) {
  // A worker that died would otherwise kill us with SIGPIPE when we hand it the next group.
  ::signal(SIGPIPE, SIG_IGN);
  SupervisedRun run;
  std::optional<Worker> worker;
  const auto tick = std::chrono::milliseconds(250);
  std::size_t cases = 0;
  for (const std::vector<std::size_t>& group : groups) cases += group.size();
  for (const std::vector<std::size_t>& group : groups) {
    if (interrupt_count() > 0) break;
    const bool fresh = !worker;
    if (fresh) worker.emplace(options.worker_argv);
    worker->send(group);  // if it is gone, its EOF below says so
    std::vector<std::size_t> unfinished = group;  // in the group's order
    // Every case of the group has its own --timeout; measured side by side they share the sum.
    const auto timeout = std::chrono::duration<double>(options.timeout_s * double(group.size()));
    auto lose_the_rest = [&](const std::string& reason) {
      for (std::size_t index : unfinished) events.lost(index, reason), ++run.finished;
      unfinished.clear();
    };
    bool begun = false;
    Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                    timeout + std::chrono::duration<double>(fresh ? options.startup_s : 0));
    while (!unfinished.empty()) {
      if (interrupt_count() > 1) {  // a second Ctrl-C: stop now, the cases in flight are not recorded
        worker->kill();
        worker.reset();
        run.interrupted = true;
        return run;
      }
      if (events.tick) events.tick();
      const std::optional<std::string> line = worker->read_line(tick);
      if (!line) {  // the worker ended without every record: a crash (or an exit we did not ask for)
        const int status = worker->reap();
        worker.reset();
        if (!begun && fresh)
          throw std::runtime_error("the sweep worker ended before its first case (" + describe_worker_end(status) +
                                   "); see the messages above");
        lose_the_rest(describe_worker_end(status));
      } else if (!line->empty()) {
        const std::optional<Message> m = parse_message(*line);
        const auto waiting = m ? std::find(unfinished.begin(), unfinished.end(), m->index) : unfinished.end();
        if (m && m->verb == "begin" && !begun && m->index == group.front()) {
          begun = true;
          deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
          if (events.begin) events.begin(m->index);
        } else if (m && m->verb == "record" && begun && waiting != unfinished.end()) {
          unfinished.erase(waiting);
          const nlohmann::json record = nlohmann::json::parse(m->payload, nullptr, false);
          if (record.is_object()) events.record(m->index, record);
          else events.lost(m->index, "the worker sent an unreadable record");
          ++run.finished;
        } else {
          worker->kill();
          worker.reset();
          lose_the_rest("the worker sent an unexpected line: " + line->substr(0, 80));
        }
      } else if (Clock::now() > deadline) {
        worker->kill();
        worker.reset();
        lose_the_rest(timeout_reason(options.timeout_s, group.size()));
      }
    }
  }
  if (worker) worker->stop();
  if (run.finished < cases) run.interrupted = true;
  return run;
}

}  // namespace attnbench
