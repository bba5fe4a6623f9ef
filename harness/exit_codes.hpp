#pragma once
// The program's exit statuses (the contract scripts rely on, DESIGN.md) and the error type that
// carries the "bad input" one.
#include <stdexcept>
#include <string>

namespace attnbench {

enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,  ///< a correctness check (or, later, a regression) failed
  kExitBadInput = 2,     ///< bad input: the message on stderr says what is wrong and how to fix it
};

/// Bad input from the user. Its message is one line naming what is wrong and how to fix it.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace attnbench
