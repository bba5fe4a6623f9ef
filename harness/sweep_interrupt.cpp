#include "sweep_interrupt.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace attnbench {
namespace {

volatile std::sig_atomic_t g_count = 0;
volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_second_exits = 0;
volatile std::sig_atomic_t g_announce = 0;
volatile pid_t g_main_thread = 0;  ///< the thread that installed the handlers

/// write(2) of a string literal: async-signal-safe, unlike any stream.
template <std::size_t N>
void say(const char (&text)[N]) {
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, text, N - 1);
}

void handle_interrupt(int signal) {
  // A signal sent to the process may land on any thread (an OpenMP or MPI one): hand it to the main
  // thread, which holds it while it appends a record (ResultsFile::append), so no exit tears a line.
  if (pid_t(::syscall(SYS_gettid)) != g_main_thread) {
    ::syscall(SYS_tgkill, ::getpid(), g_main_thread, signal);
    return;
  }
  g_count = g_count + 1;
  g_signal = signal;
  if (!g_second_exits) return;
  if (g_count == 1) {
    if (g_announce)
      say("\nattnbench: interrupted: finishing the case in flight, then stopping (interrupt again to stop at once)\n");
    return;
  }
  say("\nattnbench: interrupted again: stopped at once; the case in flight is not recorded\n");
  ::_exit(128 + signal);
}

extern "C" void count_interrupt(int signal) {
  const int saved = errno;  // the interrupted code may be about to read it
  handle_interrupt(signal);
  errno = saved;
}

}  // namespace

void install_interrupt_handlers(SecondInterrupt second, bool announce) {
  g_second_exits = second == SecondInterrupt::exits;
  g_announce = announce;
  g_main_thread = pid_t(::syscall(SYS_gettid));
  struct sigaction action {};
  action.sa_handler = count_interrupt;
  sigemptyset(&action.sa_mask);  // one at a time: the count stays exact
  sigaddset(&action.sa_mask, SIGINT);
  sigaddset(&action.sa_mask, SIGTERM);
  // SA_RESTART keeps writes to the terminal and the results file whole; poll() is never restarted
  // (signal(7)), so the supervisor's wait still wakes at once.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void restore_default_interrupt_handlers() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

int interrupt_count() { return int(g_count); }

int interrupt_signal() { return int(g_signal); }

}  // namespace attnbench
