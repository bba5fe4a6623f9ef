#pragma once
// The machine and build facts of an attnbench record's provenance, as Google Benchmark context: they
// appear in the JSON output's "context" beside Google Benchmark's own (host_name, num_cpus, caches), so
// a reader knows what was measured and `attnbench compare` can warn when two files come from different
// machines or builds.
#include <benchmark/benchmark.h>

#include <string>

#include <nlohmann/json.hpp>

#include "provenance.hpp"

namespace attnbench::bench {

/// Adds version, git_commit, compiler, flags, build_type, cpu, cores, physical_cores, cpu_flags and os.
/// Call after benchmark::Initialize.
inline void add_machine_context() {
  const nlohmann::json p = provenance(/*threads=*/1, /*ranks=*/1);
  for (const char* key : {"version", "git_commit", "compiler", "flags", "build_type", "cpu", "cores",
                          "physical_cores", "os"}) {
    const auto it = p.find(key);
    if (it != p.end() && !it->is_null()) benchmark::AddCustomContext(key, it->is_string() ? it->get<std::string>() : it->dump());
  }
  if (const auto flags = p.find("cpu_flags"); flags != p.end() && flags->is_object()) {
    std::string present;
    for (const auto& [name, on] : flags->items())
      if (on.is_boolean() && on.get<bool>()) present += (present.empty() ? "" : " ") + name;
    benchmark::AddCustomContext("cpu_flags", present);
  }
}

}  // namespace attnbench::bench
