#include "roofline.hpp"

#include <algorithm>
#include <filesystem>

#include "exit_codes.hpp"
#include "machine_profile.hpp"
#include "provenance.hpp"

namespace attnbench {

std::optional<Roofline> roofline(const MachinePeak& peak, int threads, int ranks, double gflops, double gbytes_per_s) {
  const PeakAtThreads* at = peak.at(threads);
  if (!at || !(gflops > 0) || !(gbytes_per_s > 0) || ranks < 1) return std::nullopt;
  Roofline r;
  r.threads = threads;
  r.ranks = ranks;
  r.peak_gflops = at->fma_gflops * ranks;
  r.triad_gbytes_per_s = at->triad_gbytes_per_s * ranks;
  r.intensity = gflops / gbytes_per_s;
  r.ridge = r.peak_gflops / r.triad_gbytes_per_s;
  r.memory_bound = r.intensity < r.ridge;
  r.attainable_gflops = std::min(r.peak_gflops, r.intensity * r.triad_gbytes_per_s);
  r.pct_peak = 100 * gflops / r.attainable_gflops;
  return r;
}

RunMachine machine_for_run(const std::string* explicit_path) {
  const std::filesystem::path path = explicit_path ? std::filesystem::path(*explicit_path) : default_machine_profile_path();
  if (!explicit_path && !std::filesystem::exists(path)) return {};
  MachineProfile profile;
  try {
    profile = load_machine_profile(path);
  } catch (const ProfileError& e) {
    if (explicit_path) throw UsageError(std::string("--machine: ") + e.what());
    return {std::nullopt, std::string("note: pct_peak left null: ") + e.what()};
  }
  const std::string measured = profile.provenance.value("cpu", ""), here = cpu_model();
  if (measured != here) {
    const std::string why = path.string() + " was measured on '" + measured + "', this is '" + here +
                            "'; run 'attnbench calibrate' here";
    if (explicit_path) throw UsageError("--machine: " + why);
    return {std::nullopt, "note: pct_peak left null: " + why};
  }
  return {std::move(profile.compute), profile.quick ? "note: " + path.string() + " was measured with --quick: "
                                                          "pct_peak figures are rough" : ""};
}

nlohmann::json to_json(const Roofline& r) {
  return {{"bound", r.memory_bound ? "memory" : "compute"},
          {"arithmetic_intensity", r.intensity},
          {"ridge_flops_per_byte", r.ridge},
          {"attainable_gflops", r.attainable_gflops},
          {"peak_gflops", r.peak_gflops},
          {"triad_gbytes_per_s", r.triad_gbytes_per_s},
          {"threads", r.threads},
          {"ranks", r.ranks}};
}

}  // namespace attnbench
