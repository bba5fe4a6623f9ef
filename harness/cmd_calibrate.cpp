// `attnbench calibrate`: measure this machine (FMA peak, STREAM triad, SGEMM per thread count) and,
// under an MPI launcher with 2+ ranks, its network (ping-pong, bandwidth, all-reduce, all-to-all,
// ring send-receive, each with an alpha-beta fit); write the machine profile that `run --machine`
// and `project` read, and print a summary.
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <mpi.h>

#include "cli_parse.hpp"
#include "commands.hpp"
#include "console_table.hpp"
#include "exit_codes.hpp"
#include "memory_info.hpp"
#include "machine_profile.hpp"
#include "mpi_session.hpp"
#include "network_calibration.hpp"
#include "provenance.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

po::options_description calibrate_options() {
  po::options_description o("Options");
  o.add_options()
      ("help,h", "show this help")
      ("threads", po::value<std::string>(), "thread counts to measure the compute peaks at, comma-separated "
                                            "(default: 1 and all logical CPUs)")
      ("out", po::value<std::string>(), "write the profile here (default: $ATTNBENCH_MACHINE_PROFILE or "
                                        "results/machine-profile.json); a file already there is kept as FILE.prev")
      ("quick", po::bool_switch(), "short measurements and messages up to 64 KiB (seconds, for tests; rough figures)")
      ("no-network", po::bool_switch(), "under MPI, measure the compute peaks only")
      ("max-message", po::value<std::string>(), "largest message in bytes (default 67108864 = 64 MiB; 65536 with --quick)")
      ("repetitions", po::value<std::string>(), "timed repetitions per message size, median kept (default 7; 3 with --quick)");
  return o;
}

struct Settings {
  MachinePeakOptions peak;
  NetworkOptions network;
  bool measure_network = true;
  bool quick = false;
  fs::path out;
};

Settings settings_from(const po::variables_map& vm) {
  Settings s;
  s.quick = vm["quick"].as<bool>();
  s.measure_network = !vm["no-network"].as<bool>();
  if (vm.count("threads"))
    for (const std::string& t : split_list("--threads", vm["threads"].as<std::string>()))
      s.peak.thread_counts.push_back(int(parse_int("--threads", t, 1, 4096)));
  if (s.quick) {
    s.peak.fma_seconds = 0.05;
    s.peak.triad_bytes_per_array = std::size_t{8} << 20;
    s.peak.triad_seconds = 0.05;
    s.peak.sgemm_n = 256;
    s.peak.sgemm_repetitions = 2;
    s.network.max_bytes = std::int64_t{64} << 10;
    s.network.repetitions = 3;
    s.network.bytes_per_repetition = std::int64_t{256} << 10;
    s.network.max_iterations = 20;
  }
  if (vm.count("max-message"))
    s.network.max_bytes = parse_int("--max-message", vm["max-message"].as<std::string>(), 2, std::int64_t{1} << 30);
  if (vm.count("repetitions"))
    s.network.repetitions = int(parse_int("--repetitions", vm["repetitions"].as<std::string>(), 1, 1000));
  s.out = vm.count("out") ? fs::path(vm["out"].as<std::string>()) : default_machine_profile_path();
  return s;
}

/// CPUs this process may run on (mpirun binds each rank to one core by default).
int cpus_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

/// Writes the profile next to its destination and renames it into place, so a reader never sees a
/// half-written profile; an existing profile is kept as FILE.prev, never overwritten in place.
void write_profile(const fs::path& out, const nlohmann::json& profile) {
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  const fs::path tmp = out.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << profile.dump(2) << "\n";
    f.close();
    if (!f) {
      const std::string reason = std::strerror(errno);
      fs::remove(tmp, ec);  // no half-written profile left behind
      throw UsageError("--out: cannot write '" + tmp.string() + "': " + reason + "; choose a writable --out");
    }
  }
  if (fs::exists(out)) fs::rename(out, out.string() + ".prev", ec);
  fs::rename(tmp, out, ec);
  if (ec) throw UsageError("--out: cannot move the profile into '" + out.string() + "': " + ec.message());
}

/// Fails now, not after minutes of measuring, when the profile could not be written to `out`: its
/// directory cannot be created or a file cannot be created there. Leaves nothing behind.
void check_writable(const fs::path& out) {
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  const fs::path tmp = out.string() + ".tmp";
  const bool existed = fs::exists(tmp, ec);
  errno = 0;
  if (fs::is_directory(out, ec) || !std::ofstream(tmp, std::ios::app))
    throw UsageError("--out: cannot write the profile to '" + out.string() + "': " +
                     (fs::is_directory(out, ec) ? std::string("it is a directory") : std::strerror(errno)) +
                     "; choose a writable --out FILE");
  if (!existed) fs::remove(tmp, ec);
}

void print_compute(const MachinePeak& peak) {
  std::cout << "compute (FMA loop " << to_string(peak.fma_isa) << ", triad 3 x " << (peak.triad_bytes_per_array >> 20)
            << " MiB, SGEMM " << peak.sgemm_n << "^3 with " << peak.blas << "):\n";
  ConsoleTable t(std::cout, {{"threads", 7}, {"FMA GFLOP/s", 11}, {"AVX-512", 8}, {"triad GB/s", 10}, {"SGEMM GFLOP/s", 13}});
  t.print_header();
  for (const PeakAtThreads& p : peak.per_threads)
    t.print_row({std::to_string(p.threads), format_number(p.fma_gflops),
                 p.fma_avx512_gflops ? format_number(*p.fma_avx512_gflops) : "-", format_number(p.triad_gbytes_per_s),
                 p.sgemm_gflops ? format_number(*p.sgemm_gflops) : "-"});
}

void print_network(const NetworkCalibration& n) {
  std::string hosts;
  for (const std::string& h : n.hosts) hosts += (hosts.empty() ? "" : ",") + h;
  std::cout << "\nnetwork: " << n.ranks << " ranks on " << n.host_count() << " host(s) [" << hosts << "], btl "
            << (n.transport.empty() ? "Open MPI default" : n.transport) << "; ping-pong and bandwidth between ranks 0 and "
            << n.pingpong_peer << "\n";
  ConsoleTable t(std::cout, {{"operation", 13, false}, {"alpha", 9}, {"bandwidth", 11}, {"fit rms", 7}, {"fit max", 7},
                             {"sizes", 13, false}});
  t.print_header();
  for (const NetOpCalibration& c : n.operations) {
    const AlphaBeta& m = c.fit.model;
    char rms[16], worst[16];
    std::snprintf(rms, sizeof rms, "%.0f%%", 100 * c.fit.rel_rms_residual);
    std::snprintf(worst, sizeof worst, "%.0f%%", 100 * c.fit.max_rel_residual);
    t.print_row({to_string(c.op), format_seconds(m.alpha_s), format_number(m.gbytes_per_s()) + " GB/s", rms, worst,
                 format_bytes(c.points.front().bytes) + ".." + format_bytes(c.points.back().bytes)});
  }
  const auto best = std::max_element(n.bandwidth.begin(), n.bandwidth.end(),
                                     [](const BandwidthPoint& a, const BandwidthPoint& b) { return a.gbytes_per_s < b.gbytes_per_s; });
  if (best != n.bandwidth.end())
    std::cout << "streaming bandwidth (window of up to " << n.bandwidth.front().window << " messages): best "
              << format_number(best->gbytes_per_s) << " GB/s at " << format_bytes(best->bytes) << "\n";
}

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args, const MpiSession& mpi) {
  const po::options_description options = calibrate_options();
  const po::variables_map vm = parse_args("calibrate", args, options);
  if (vm.count("help")) {
    std::cout << "attnbench calibrate: measure this machine (and, under mpirun/srun, its network)\n\n"
                 "usage: attnbench calibrate [--threads 1,2] [--out FILE] [--quick]\n"
                 "       mpirun -np 2 --bind-to none attnbench calibrate ...   (also measures the network)\n\n"
              << options << "\nExit status: 0 ok, 2 bad input.\n";
    return kExitOk;
  }
  Settings s = settings_from(vm);
  try {
    validate(s.network);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const bool network = mpi.active() && mpi.size() > 1 && s.measure_network;
  mpi.collectively([&] {  // rank 0 checks; every rank stops on its error
    if (mpi.is_root()) check_writable(s.out);
  });

  MachineProfile profile;
  profile.quick = s.quick;
  if (mpi.is_root()) {
    const int allowed = cpus_allowed();
    int most = 0;
    for (int t : s.peak.thread_counts) most = std::max(most, t);
    if (allowed > 0 && most > allowed)
      std::cerr << "note: this process may run on only " << allowed << " CPU(s) but " << most
                << " threads were asked for (mpirun binds each rank to a core: add --bind-to none)\n";
    // Measured by rank 0 alone while the other ranks sleep, so they take no cycles from it.
    try {
      profile.compute = measure_machine_peak(s.peak);
    } catch (const std::invalid_argument& e) {
      if (!network) throw UsageError(e.what());
      std::cerr << "attnbench: error: " << e.what() << "\n";
      MPI_Abort(MPI_COMM_WORLD, kExitBadInput);
    } catch (const std::exception& e) {
      if (!network) throw;
      std::cerr << "attnbench: error: measuring the compute peaks failed: " << e.what() << "\n";
      MPI_Abort(MPI_COMM_WORLD, kExitBadInput);
    }
    profile.cores = std::max(1, allowed);
  }
  if (mpi.active()) sleeping_barrier(MPI_COMM_WORLD);
  // Collective under MPI (it gathers the ranks' hosts): every rank calls it here.
  profile.provenance = provenance(1, mpi.size());
  if (const auto& c = profile.provenance["cores"]; c.is_number_integer() && c.get<int>() > 0) profile.cores = c.get<int>();
  if (network) {
    if (mpi.is_root()) std::cerr << "measuring the network on " << mpi.size() << " ranks...\n";
    NetworkCalibration net = calibrate_network(MPI_COMM_WORLD, s.network, [](const std::string& line) {
      std::cerr << line << "\n";
    });
    if (mpi.is_root()) profile.network = std::move(net);
  }
  if (!mpi.is_root()) return kExitOk;

  if (profile.provenance.contains("threads")) profile.provenance.erase("threads");  // per entry, not one figure
  write_profile(s.out, to_json(profile));
  std::cout << "attnbench calibrate on " << profile.provenance.value("host", "?") << " ("
            << profile.provenance.value("cpu", "unknown CPU") << ", " << profile.cores << " logical CPUs)"
            << (s.quick ? " -- quick mode: rough figures" : "") << "\n\n";
  print_compute(profile.compute);
  if (profile.network) print_network(*profile.network);
  else if (mpi.size() < 2)
    std::cout << "\nnetwork: not measured (run under mpirun or srun with 2 or more ranks to calibrate it)\n";
  std::cout << "\nprofile -> " << s.out.string() << "\n";
  return kExitOk;
}

}  // namespace attnbench
