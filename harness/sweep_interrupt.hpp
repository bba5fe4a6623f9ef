#pragma once
// Ctrl-C (SIGINT) and SIGTERM during a sweep, run or profile: the first one asks the command to stop
// after the case in flight (its record is written, then it exits 128 + signal); a second one stops it
// at once. The handlers count; the sweep's supervisor polls between and during cases. A command that
// cannot poll while a kernel runs (run, profile) asks for SecondInterrupt::exits instead.
namespace attnbench {

/// What a second SIGINT/SIGTERM does.
enum class SecondInterrupt {
  counted,  ///< counted like the first; the caller notices through interrupt_count() (the sweep's supervisor)
  exits,    ///< the handler says so on stderr and ends the process with 128 + signal at once; a record
            ///< being appended stays whole (ResultsFile::append holds these signals while it writes)
};

/// Installs the counting handlers for SIGINT and SIGTERM (poll() returns EINTR on either, so the
/// supervisor notices at once). Idempotent. With SecondInterrupt::exits and `announce` the first signal
/// also prints a one-line note on stderr (the command cannot print it while its kernel runs); under an
/// MPI launcher pass false: the launcher's SIGTERM ends a failed job, and it says why itself.
void install_interrupt_handlers(SecondInterrupt second = SecondInterrupt::counted, bool announce = true);

/// Gives SIGINT and SIGTERM their default action again, once the work they would let finish is done:
/// a process stuck after it (e.g. a library's exit handler) still ends on one signal.
void restore_default_interrupt_handlers();

/// How many SIGINT/SIGTERM arrived since install_interrupt_handlers().
int interrupt_count();

/// The last of them (SIGINT or SIGTERM), 0 when none.
int interrupt_signal();

/// The exit status for a run ended by `signal`: 128 + signal (130 for SIGINT, 143 for SIGTERM).
inline int exit_status_for_signal(int signal) { return 128 + signal; }

}  // namespace attnbench
