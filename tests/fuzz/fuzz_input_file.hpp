#pragma once
// The readers under test take a path: each fuzz input is written to one memory-backed file per
// process (memfd, so nothing touches the disk) and read back through /proc/self/fd.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace attnbench::fuzz {

inline std::string write_input(const std::uint8_t* data, std::size_t size) {
  static const int fd = memfd_create("attnbench-fuzz", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace attnbench::fuzz
