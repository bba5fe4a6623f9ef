#pragma once
// Ctrl-C (SIGINT) and SIGTERM during a sweep: the first one asks the sweep to stop after the case in
// flight (its record is written, the resume command printed); a second one stops it at once. The
// handlers only count; the sweep polls between and during cases.
namespace attnbench {

/// Installs the counting handlers for SIGINT and SIGTERM (poll() returns EINTR on either, so the
/// supervisor notices at once). Idempotent.
void install_interrupt_handlers();

/// How many SIGINT/SIGTERM arrived since install_interrupt_handlers().
int interrupt_count();

/// The last of them (SIGINT or SIGTERM), 0 when none.
int interrupt_signal();

/// The exit status for a run ended by `signal`: 128 + signal (130 for SIGINT, 143 for SIGTERM).
inline int exit_status_for_signal(int signal) { return 128 + signal; }

}  // namespace attnbench
