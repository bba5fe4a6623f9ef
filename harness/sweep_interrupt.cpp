#include "sweep_interrupt.hpp"

#include <csignal>

namespace attnbench {
namespace {

volatile std::sig_atomic_t g_count = 0;
volatile std::sig_atomic_t g_signal = 0;

extern "C" void count_interrupt(int signal) {
  g_count = g_count + 1;
  g_signal = signal;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = count_interrupt;
  sigemptyset(&action.sa_mask);
  // SA_RESTART keeps writes to the terminal and the results file whole; poll() is never restarted
  // (signal(7)), so the supervisor's wait still wakes at once.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int interrupt_count() { return int(g_count); }

int interrupt_signal() { return int(g_signal); }

}  // namespace attnbench
