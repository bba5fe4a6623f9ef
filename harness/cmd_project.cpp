// `attnbench project`: the alpha-beta model's prediction of each distributed attention strategy at
// P = 1, 2, 4, ..., 1024 ranks (perf_model.hpp), from a single-rank compute rate and a network; and
// `--validate FILE`, the prediction beside the MPI kernels' measurements.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "attnbench/cost_model.hpp"
#include "cli_parse.hpp"
#include "cli_problem.hpp"
#include "commands.hpp"
#include "compute_rate.hpp"
#include "console_table.hpp"
#include "exit_codes.hpp"
#include "model_validation.hpp"
#include "perf_model.hpp"
#include "problem_json.hpp"
#include "provenance.hpp"
#include "results_file.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

po::options_description project_options() {
  po::options_description o("Model");
  o.add_options()
      ("help,h", "show this help")
      ("strategy", po::value<std::string>()->default_value("tp,ring,ulysses"), "strategies to project, comma-separated")
      ("ranks", po::value<std::string>(), "rank counts, comma-separated (default 1,2,4,...,1024)")
      ("threads", po::value<std::string>()->default_value("1"), "threads per rank")
      ("ranks-per-node", po::value<std::string>()->default_value("1"), "ranks placed on each node")
      ("cores-per-node", po::value<std::string>(), "logical CPUs per node, to model oversubscription (default: "
                                                   "the machine profile's, else not modelled)")
      ("network", po::value<std::string>(), "100GbE | 200Gb-IB | shm | calibrated (the --machine profile's "
                                            "network); default 100GbE unless --alpha-us is given")
      ("alpha-us", po::value<std::string>(), "explicit network: latency in microseconds (with --bandwidth-gbps)")
      ("bandwidth-gbps", po::value<std::string>(), "explicit network: link rate in Gbit/s")
      ("efficiency", po::value<std::string>()->default_value("1"), "explicit network: fraction of --bandwidth-gbps "
                                                                   "MPI reaches, in (0, 1]")
      ("machine", po::value<std::string>(), "machine profile from 'attnbench calibrate' (default: "
                                            "$ATTNBENCH_MACHINE_PROFILE or results/machine-profile.json, if present)")
      ("compute-from", po::value<std::string>(), "results file with single-rank records of the blocked kernel "
                                                 "to take the compute rate from")
      ("compute-kernel", po::value<std::string>()->default_value("mha.blocked.*"), "kernel id or glob whose "
                                                                                     "--compute-from records to use")
      ("gflops", po::value<std::string>(), "single-rank compute rate in GFLOP/s (instead of measuring it)")
      ("validate", po::value<std::string>(), "compare the model with the MPI kernels' records in this results file")
      ("tolerance", po::value<std::string>()->default_value("0.25"), "--validate: largest |error| accepted where "
                                                                     "ranks are not oversubscribed (exit 1 beyond)")
      ("out", po::value<std::string>(), "append JSON Lines records (kind projection or model_validation) here");
  po::options_description all("attnbench project: predict distributed attention from a compute rate and a network\n");
  all.add(problem_options()).add(o);
  return all;
}

std::vector<int> rank_counts(const po::variables_map& vm) {
  std::vector<int> ranks;
  if (!vm.count("ranks")) {
    for (int p = 1; p <= 1024; p *= 2) ranks.push_back(p);
    return ranks;
  }
  for (const std::string& item : split_list("--ranks", vm["ranks"].as<std::string>()))
    ranks.push_back(int(parse_int("--ranks", item, 1, 1 << 20)));
  return ranks;
}

std::optional<MachineProfile> machine_profile(const po::variables_map& vm) {
  const bool given = vm.count("machine");
  const fs::path path = given ? fs::path(vm["machine"].as<std::string>()) : default_machine_profile_path();
  if (!given && !fs::exists(path)) return std::nullopt;
  try {
    return load_machine_profile(path);
  } catch (const ProfileError& e) {
    throw UsageError(std::string("--machine: ") + e.what());
  }
}

NetworkModel network_from(const po::variables_map& vm, const std::optional<MachineProfile>& profile) {
  const bool explicit_link = vm.count("alpha-us") || vm.count("bandwidth-gbps");
  if (explicit_link) {
    if (vm.count("network")) throw UsageError("--network and --alpha-us/--bandwidth-gbps both given: choose one");
    if (!vm.count("alpha-us") || !vm.count("bandwidth-gbps"))
      throw UsageError("an explicit network needs both --alpha-us and --bandwidth-gbps");
    return network_custom(parse_double("--alpha-us", vm["alpha-us"].as<std::string>(), 0, 1e6),
                          parse_double("--bandwidth-gbps", vm["bandwidth-gbps"].as<std::string>(), 1e-6, 1e6),
                          parse_double("--efficiency", vm["efficiency"].as<std::string>(), 1e-6, 1));
  }
  const std::string name = vm.count("network") ? vm["network"].as<std::string>() : "100GbE";
  if (name == "calibrated") {
    if (!profile) throw UsageError("--network calibrated needs a machine profile: pass --machine FILE (written by "
                                   "'mpirun -np 2 attnbench calibrate')");
    if (!profile->network) throw UsageError("--network calibrated: the machine profile has no network figures; "
                                            "calibrate under mpirun with 2 or more ranks");
    return network_from_calibration(*profile->network);
  }
  try {
    return network_preset(name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--network: ") + e.what());
  }
}

ComputeRate compute_rate_from(const po::variables_map& vm, const Problem& problem, int threads) {
  if (vm.count("gflops")) {
    if (vm.count("compute-from")) throw UsageError("--gflops and --compute-from both given: choose one");
    const double g = parse_double("--gflops", vm["gflops"].as<std::string>(), 1e-6, 1e9);
    return {g, format_number(g) + " GFLOP/s per rank (--gflops)"};
  }
  if (vm.count("compute-from")) {
    const fs::path path = vm["compute-from"].as<std::string>();
    std::vector<std::string> warnings;
    std::vector<nlohmann::json> records;
    try {
      records = read_results(path, &warnings);
    } catch (const ResultsFileError& e) {
      throw UsageError(std::string("--compute-from: ") + e.what());
    }
    try {
      return compute_rate_from_records(records, vm["compute-kernel"].as<std::string>(), threads, problem);
    } catch (const std::invalid_argument& e) {
      throw UsageError("--compute-from " + path.string() + ": " + e.what());
    }
  }
  if (const std::string why = cannot_measure(threads); !why.empty()) throw UsageError("--threads: " + why);
  std::cerr << "measuring the single-rank compute rate (pass --compute-from or --gflops to skip)...\n";
  return measure_compute_rate(problem, threads);
}

/// "0" for no time at all (one rank communicates nothing), else format_seconds.
std::string seconds_text(double s) { return s == 0 ? "0" : format_seconds(s); }

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * x);
  return buf;
}

nlohmann::json projection_record(const Projection& r, const Problem& p, const ComputeModel& compute,
                                 const NetworkModel& net, const nlohmann::json& prov) {
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseTime& t : r.phases)
    phases.push_back({{"phase", t.term.phase},
                      {"link", to_string(t.term.op)},
                      {"bytes_sent_per_rank", t.term.bytes_sent_per_rank},
                      {"messages_per_rank", t.term.messages_per_rank},
                      {"overlapped", t.term.overlapped},
                      {"seconds", t.seconds},
                      {"latency_s", t.latency_s}});
  nlohmann::json links = nlohmann::json::object();
  for (NetOp op : kAllNetOps)
    links[to_string(op)] = {{"alpha_s", net.link(op).alpha_s}, {"beta_s_per_byte", net.link(op).beta_s_per_byte}};
  auto or_null = [&](double v) { return r.possible ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"kind", "projection"},
          {"schema_version", 1},
          {"strategy", to_string(r.strategy)},
          {"kernel", kernel_id(r.strategy)},
          {"problem", problem_to_json(p)},
          {"problem_str", p.str()},
          {"ranks", r.ranks},
          {"threads_per_rank", compute.threads},
          {"ranks_per_node", compute.ranks_per_node},
          {"cores_per_node", compute.cores_per_node},
          {"possible", r.possible},
          {"reason", r.reason},
          {"time_s", or_null(r.time_s)},
          {"compute_s", or_null(r.compute_s)},
          {"comm_s", or_null(r.comm_s)},
          {"exposed_comm_s", or_null(r.exposed_comm_s)},
          {"speedup", or_null(r.speedup)},
          {"efficiency", or_null(r.efficiency)},
          {"dominant", r.dominant},
          {"share", r.share},
          {"flops_per_rank", r.flops_per_rank},
          {"phases", phases},
          {"compute", {{"gflops_per_rank", compute.gflops}, {"source", compute.source}}},
          {"network", {{"name", net.name}, {"description", net.description}, {"links", links}}},
          {"provenance", prov}};
}

std::unique_ptr<ResultsFile> open_out(const po::variables_map& vm) {
  if (!vm.count("out")) return nullptr;
  try {
    return std::make_unique<ResultsFile>(vm["out"].as<std::string>());
  } catch (const ResultsFileError& e) {
    throw UsageError(std::string("--out: ") + e.what());
  }
}

int run_validation(const po::variables_map& vm, const NetworkModel& net, const std::optional<MachineProfile>& profile,
                   const std::optional<ComputeRate>& fallback) {
  const fs::path path = vm["validate"].as<std::string>();
  const double tolerance = parse_double("--tolerance", vm["tolerance"].as<std::string>(), 0, 100);
  std::vector<std::string> warnings;
  std::vector<nlohmann::json> records;
  try {
    records = read_results(path, &warnings);
  } catch (const ResultsFileError& e) {
    throw UsageError(std::string("--validate: ") + e.what());
  }
  for (const std::string& w : warnings) std::cerr << "note: " << w << "\n";
  ValidationOptions options{net, profile ? profile->cores : 0, fallback};
  if (vm.count("cores-per-node"))
    options.cores_per_node = int(parse_int("--cores-per-node", vm["cores-per-node"].as<std::string>(), 1, 1 << 20));
  std::vector<std::string> skipped;
  const std::vector<ValidationRow> rows = validate_model(records, options, &skipped);
  for (const std::string& s : skipped) std::cerr << "skipped: " << s << "\n";
  if (rows.empty())
    throw UsageError("--validate " + path.string() + ": no ok record of mha.tp.mpi, mha.ring.mpi or mha.ulysses.mpi "
                     "that the model can price (run them under mpirun with --out FILE first)");
  std::unique_ptr<ResultsFile> out = open_out(vm);
  std::cout << "model vs measured (" << path.string() << "); network: " << net.description << "\n\n";
  ConsoleTable t(std::cout, {{"kernel", 15, false}, {"problem", 28, false}, {"ranks", 5}, {"thr", 3},
                             {"measured", 9}, {"predicted", 9}, {"error", 6}, {"comm meas", 9}, {"comm pred", 9},
                             {"note", 4, false}});
  t.print_header();
  bool beyond = false;
  for (const ValidationRow& row : rows) {
    const bool counts = !row.oversubscribed && row.ranks > 1;
    const bool off = std::fabs(row.error) > tolerance;
    beyond |= counts && off;
    std::string note = row.note;
    if (counts && off) note = "beyond the " + percent(tolerance) + " tolerance" + (note.empty() ? "" : "; " + note);
    t.print_row({row.kernel, row.problem.str(), std::to_string(row.ranks), std::to_string(row.threads),
                 format_seconds(row.measured_s), format_seconds(row.predicted.time_s),
                 (row.error >= 0 ? "+" : "") + percent(row.error),
                 row.measured_comm_s ? seconds_text(*row.measured_comm_s) : "-", seconds_text(row.predicted.comm_s),
                 note});
    if (out) out->append(to_json(row));
  }
  std::set<std::string> sources;
  for (const ValidationRow& row : rows) sources.insert(row.rate_source);
  std::cout << "\nsingle-rank rates:";
  for (const std::string& source : sources) std::cout << "\n  " << source;
  std::cout << "\n";
  return beyond ? kExitCheckFailed : kExitOk;
}

}  // namespace

int cmd_project(const std::vector<std::string>& args) {
  const po::options_description options = project_options();
  const po::variables_map vm = parse_args("project", args, options);
  if (vm.count("help")) {
    std::cout << "usage: attnbench project (--problem STR | --heads H --seq L --head-dim D [...]) [--network 100GbE] [options]\n"
                 "       attnbench project --validate RESULTS.jsonl --machine PROFILE.json --network calibrated\n\n"
              << options
              << "\nThe model (docs/PERFORMANCE.md): busiest rank's compute / rate + communication priced by alpha-beta;\n"
                 "ring steps overlap with compute, all other phases are exposed.\n"
                 "Exit status: 0 ok, 1 --validate found an error beyond --tolerance, 2 bad input.\n";
    return kExitOk;
  }
  const std::optional<MachineProfile> profile = machine_profile(vm);
  const NetworkModel net = network_from(vm, profile);
  const int threads = int(parse_int("--threads", vm["threads"].as<std::string>(), 1, 4096));
  std::optional<ComputeRate> explicit_rate;
  if (vm.count("validate")) {
    if (vm.count("gflops") || vm.count("compute-from")) {
      // Only a fallback there: the file's own single-rank records come first.
      const Problem any = problems_from(vm).front();
      explicit_rate = compute_rate_from(vm, any, threads);
    }
    return run_validation(vm, net, profile, explicit_rate);
  }
  std::vector<Strategy> strategies;
  for (const std::string& name : split_list("--strategy", vm["strategy"].as<std::string>())) try {
      strategies.push_back(strategy_from_string(name));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--strategy: ") + e.what());
    }
  const std::vector<int> ranks = rank_counts(vm);
  const std::vector<Problem> problems = problems_from(vm);
  ComputeModel compute;
  compute.threads = threads;
  compute.ranks_per_node = int(parse_int("--ranks-per-node", vm["ranks-per-node"].as<std::string>(), 1, 1 << 20));
  compute.cores_per_node = vm.count("cores-per-node")
                               ? int(parse_int("--cores-per-node", vm["cores-per-node"].as<std::string>(), 1, 1 << 20))
                               : profile ? profile->cores : 0;
  std::unique_ptr<ResultsFile> out = open_out(vm);
  const nlohmann::json prov = provenance(threads, 1);

  for (const Problem& p : problems) {
    const ComputeRate rate = compute_rate_from(vm, p, threads);
    compute.gflops = rate.gflops;
    compute.source = rate.source;
    std::cout << "problem " << p.str() << ": " << format_number(flops(p).total() * 1e-9) << " GFLOP per forward pass\n"
              << "compute: " << rate.source << "; " << threads << " thread(s) per rank, " << compute.ranks_per_node
              << " rank(s) per node"
              << (compute.cores_per_node ? ", " + std::to_string(compute.cores_per_node) + " cores per node" : "")
              << "\nnetwork: " << net.description
              << "\nmodel: busiest rank's compute + communication (alpha-beta); ring K/V transfers overlap with "
                 "compute, other phases do not\n\n";
    ConsoleTable t(std::cout, {{"strategy", 8, false}, {"ranks", 5}, {"time", 9}, {"compute", 9}, {"comm", 9},
                               {"exposed", 9}, {"speed-up", 8}, {"eff.", 5}, {"dominant", 8, false}});
    t.print_header();
    for (Strategy s : strategies) {
      for (int P : ranks) {
        const Projection r = project(s, p, P, compute, net);
        if (out) out->append(projection_record(r, p, compute, net, prov));
        if (!r.possible) {
          t.print_row({to_string(s), std::to_string(P), "-", "-", "-", "-", "-", "-", "impossible: " + r.reason});
          continue;
        }
        t.print_row({to_string(s), std::to_string(P), seconds_text(r.time_s), seconds_text(r.compute_s),
                     seconds_text(r.comm_s), seconds_text(r.exposed_comm_s), format_number(r.speedup) + "x",
                     percent(r.efficiency),
                     r.dominant + (r.share < 1 ? "; oversubscribed, rate x " + format_number(r.share) : "")});
      }
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace attnbench
