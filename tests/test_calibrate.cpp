// The machine profile (machine_profile.hpp): JSON round trip and the rejection of malformed or
// version-mismatched profiles; the network calibration's option checks; and the calibrate and
// project commands end to end (including calibrate under mpirun with 2 ranks), with bad input
// exiting 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "machine_profile.hpp"
#include "network_calibration.hpp"
#include "results_file.hpp"
#include "roofline.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::run_command;
using test_support::shell_quote;
using test_support::TempDir;

MachineProfile sample_profile() {
  MachineProfile p;
  p.provenance = {{"host", "h"}, {"cpu", "c"}, {"cores", 2}};
  p.cores = 2;
  p.compute.fma_isa = FmaIsa::avx2_fma;
  p.compute.avx512f = true;
  p.compute.triad_bytes_per_array = 1 << 20;
  p.compute.sgemm_n = 256;
  p.compute.per_threads = {{1, 117.0, 116.0, 22.0, 104.0}, {2, 233.0, std::nullopt, 31.0, std::nullopt}};
  NetworkCalibration n;
  n.ranks = 2;
  n.hosts = {"h", "h"};
  n.transport = "self,tcp";
  n.bandwidth = {{1, 64, 0.01}, {65536, 64, 5.0}};
  NetOpCalibration pp;
  pp.op = NetOp::pingpong;
  pp.points = {{1, 1000, 7, 4e-7, 3.9e-7, 5e-7}, {65536, 256, 7, 1.2e-5, 1.1e-5, 1.4e-5}};
  pp.fit.model = {4e-7, 1.8e-10};
  pp.fit.rel_rms_residual = 0.05;
  pp.fit.max_rel_residual = 0.08;
  pp.fit.points = 2;
  NetOpCalibration ar = pp;
  ar.op = NetOp::allreduce;
  n.operations = {pp, ar};
  p.network = n;
  return p;
}

TEST(MachineProfile, JsonRoundTrip) {
  const MachineProfile p = sample_profile();
  const nlohmann::json j = to_json(p);
  EXPECT_EQ(j["kind"], "machine_profile");
  EXPECT_EQ(j["profile_version"], kMachineProfileVersion);
  const MachineProfile back = machine_profile_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(to_json(back), j);
  ASSERT_TRUE(back.network);
  EXPECT_EQ(back.network->host_count(), 1);
  ASSERT_NE(back.network->find(NetOp::allreduce), nullptr);
  EXPECT_EQ(back.network->find(NetOp::alltoall), nullptr);
  EXPECT_DOUBLE_EQ(back.network->find(NetOp::pingpong)->fit.model.beta_s_per_byte, 1.8e-10);
  EXPECT_DOUBLE_EQ(*back.compute.at(1)->sgemm_gflops, 104.0);
  MachineProfile local = p;
  local.network.reset();
  EXPECT_FALSE(machine_profile_from_json(to_json(local)).network);
}

/// The ProfileError message of reading `j`, or "" when it was accepted.
std::string rejection(const nlohmann::json& j) {
  try {
    machine_profile_from_json(j);
  } catch (const ProfileError& e) {
    return e.what();
  }
  return "";
}

TEST(MachineProfile, RejectsMalformedProfilesNamingTheKey) {
  const nlohmann::json good = to_json(sample_profile());
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* expected;
  };
  const Case cases[] = {
      {"/kind", "results", "not a machine profile"},
      {"/profile_version", 2, "re-run 'attnbench calibrate'"},
      {"/profile_version", "1", "profile_version must be a whole number"},
      {"/cores", 0, "cores must be >= 1"},
      {"/quick", "no", "quick must be true or false"},
      {"/compute/per_threads", nlohmann::json::array(), "at least one thread count"},
      {"/compute/per_threads/0/fma_gflops", "fast", "fma_gflops"},
      {"/network/ranks", 1, "network.ranks must be >= 2"},
      {"/network/hosts", nlohmann::json::array({"h"}), "one host name per rank"},
      {"/network/pingpong_ranks", nlohmann::json::array({0, 5}), "pingpong_ranks"},
      {"/network/operations/broadcast", nlohmann::json::object(), "unknown network operation 'broadcast'"},
      {"/network/operations/pingpong/points/0/median_s", -1.0, "median_s must be >= 0"},
      {"/network/operations/pingpong/fit/alpha_s", nullptr, "fit.alpha_s"},
      {"/network/bandwidth/1/window", 0, "window must be >= 1"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = good;
    j[nlohmann::json::json_pointer(c.pointer)] = c.value;
    const std::string why = rejection(j);
    EXPECT_NE(why.find(c.expected), std::string::npos) << c.pointer << ": got '" << why << "'";
  }
  for (const char* key : {"kind", "profile_version", "compute", "network", "provenance"}) {
    nlohmann::json j = good;
    j.erase(key);
    EXPECT_NE(rejection(j).find(std::string(key) + " is missing"), std::string::npos) << key << ": " << rejection(j);
  }
  EXPECT_NE(rejection(nlohmann::json::array()).find("JSON object"), std::string::npos);
  const std::string version = rejection([&] {
    nlohmann::json j = good;
    j["profile_version"] = 2;
    return j;
  }());
  EXPECT_NE(version.find("is 2 but this attnbench reads version 1"), std::string::npos) << version;
}

TEST(MachineProfile, LoadNamesTheFile) {
  TempDir dir("profile");
  try {
    load_machine_profile(dir / "absent.json");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json: cannot read"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "bad.json") << "{\"kind\": ";
  try {
    load_machine_profile(dir / "bad.json");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: not valid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "good.json") << to_json(sample_profile()).dump();
  EXPECT_EQ(load_machine_profile(dir / "good.json").cores, 2);
}

TEST(NetworkOptions, SizesDoubleAndBadOptionsAreRefused) {
  EXPECT_EQ(doubling_sizes(1, 8), (std::vector<std::int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(doubling_sizes(3, 20), (std::vector<std::int64_t>{3, 6, 12, 20}));
  EXPECT_EQ(doubling_sizes(1, std::int64_t{64} << 20).size(), 27u);
  NetworkOptions o;
  EXPECT_NO_THROW(validate(o));
  o.min_bytes = 0;
  EXPECT_THROW(validate(o), std::invalid_argument);
  o = {};
  o.max_bytes = 1;
  EXPECT_THROW(validate(o), std::invalid_argument) << "one size cannot fit two parameters";
  o = {};
  o.repetitions = 0;
  EXPECT_THROW(validate(o), std::invalid_argument);
}

TEST(Roofline, TheArithmeticIntensityPicksTheRoof) {
  MachinePeak peak;
  peak.per_threads = {{1, 100.0, std::nullopt, 20.0, std::nullopt}};
  // I = 50 flop/byte >= ridge 100 / 20 = 5: compute-bound, against the FMA peak.
  const auto compute = roofline(peak, 1, 1, 50, 1);
  ASSERT_TRUE(compute);
  EXPECT_FALSE(compute->memory_bound);
  EXPECT_DOUBLE_EQ(compute->ridge, 5);
  EXPECT_DOUBLE_EQ(compute->attainable_gflops, 100);
  EXPECT_DOUBLE_EQ(compute->pct_peak, 50);
  // I = 0.5 < 5: memory-bound; attainable 0.5 x 20 = 10 GFLOP/s, i.e. 4 GB/s of the triad's 20.
  const auto memory = roofline(peak, 1, 1, 2, 4);
  ASSERT_TRUE(memory);
  EXPECT_TRUE(memory->memory_bound);
  EXPECT_DOUBLE_EQ(memory->attainable_gflops, 10);
  EXPECT_DOUBLE_EQ(memory->pct_peak, 20);
  EXPECT_EQ(to_json(*memory)["bound"], "memory");
  // Two ranks: two sets of cores, two roofs' worth.
  EXPECT_DOUBLE_EQ(roofline(peak, 1, 2, 50, 1)->pct_peak, 25);
  EXPECT_FALSE(roofline(peak, 2, 1, 50, 1)) << "no 2-thread entry in the profile";
  EXPECT_FALSE(roofline(peak, 1, 1, 0, 1));
}

// ---------------------------------------------------------------------------------------------
// The commands
// ---------------------------------------------------------------------------------------------

std::string exe() { return shell_quote(ATTNBENCH_EXE); }

TEST(CalibrateCli, QuickWritesAValidProfileAndKeepsThePreviousOne) {
  TempDir dir("calibrate");
  const std::string out = (dir / "sub" / "profile.json").string();
  const auto r = run_command(exe() + " calibrate --quick --threads 1 --out " + shell_quote(out), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("FMA GFLOP/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("network: not measured"), std::string::npos) << r.out;
  const MachineProfile p = load_machine_profile(out);
  EXPECT_TRUE(p.quick);
  ASSERT_EQ(p.compute.per_threads.size(), 1u);
  EXPECT_GT(p.compute.per_threads[0].fma_gflops, 0);
  EXPECT_FALSE(p.network);
  // A second calibration replaces the profile atomically and keeps the first as .prev.
  const auto again = run_command(exe() + " calibrate --quick --threads 1 --out " + shell_quote(out), dir.path());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NO_THROW(load_machine_profile(out + ".prev"));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  // run --machine fills pct_peak (and the roofline it came from) from it.
  const std::string records = (dir / "run.jsonl").string();
  const auto run = run_command(exe() + " run --kernel mha.naive.serial --problem b1_h2_sq16_d8 --threads 1 "
                                       "--min-time 0 --min-reps 1 --machine " + shell_quote(out) + " --out " +
                                       shell_quote(records),
                               dir.path());
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.err.find("--quick: pct_peak figures are rough"), std::string::npos) << run.err;
  std::vector<std::string> warnings;
  const std::vector<nlohmann::json> recs = read_results(records, &warnings);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_GT(recs[0]["rate"]["pct_peak"].get<double>(), 0);
  EXPECT_EQ(recs[0]["roofline"]["threads"], 1);
}

TEST(RunCli, RefusesAProfileOfAnotherCpu) {
  TempDir dir("run-machine");
  std::ofstream(dir / "other.json") << to_json(sample_profile()).dump();  // measured on CPU "c"
  const auto r = run_command(exe() + " run --kernel mha.naive.serial --problem b1_h2_sq16_d8 --machine " +
                                 shell_quote((dir / "other.json").string()),
                             dir.path());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("was measured on 'c'"), std::string::npos) << r.err;
}

TEST(CalibrateCli, UnderMpirunMeasuresTheNetworkOfTwoRanks) {
  TempDir dir("calibrate-mpi");
  const std::string out = (dir / "profile.json").string();
  // Root needs the two ALLOW variables; the sanitizer build's LeakSanitizer must not report Open MPI's
  // own start-up allocations (tests/lsan-openmpi.supp; ignored by the release build).
  const std::string cmd = std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LSAN_OPTIONS=suppressions=") +
                          ATTNBENCH_SOURCE_DIR "/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0:print_suppressions=0 "
                          "mpiexec -n 2 --bind-to none " + exe() +
                          " calibrate --quick --threads 1 --max-message 4096 --out " + shell_quote(out);
  const auto r = run_command(cmd, dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 ranks on 1 host(s)"), std::string::npos) << r.out;
  const MachineProfile p = load_machine_profile(out);
  ASSERT_TRUE(p.network);
  EXPECT_EQ(p.network->ranks, 2);
  EXPECT_EQ(p.network->hosts.size(), 2u);
  for (NetOp op : kAllNetOps) {
    const NetOpCalibration* c = p.network->find(op);
    ASSERT_NE(c, nullptr) << to_string(op);
    EXPECT_GE(c->points.size(), 10u) << to_string(op);
    for (const NetPoint& pt : c->points) EXPECT_GT(pt.median_s, 0) << to_string(op) << " " << pt.bytes;
    EXPECT_GT(c->fit.model.alpha_s + c->fit.model.beta_s_per_byte, 0) << to_string(op);
    EXPECT_TRUE(std::is_sorted(c->points.begin(), c->points.end(),
                               [](const NetPoint& a, const NetPoint& b) { return a.bytes < b.bytes; }));
  }
  EXPECT_EQ(p.network->find(NetOp::allreduce)->points.front().bytes, 4) << "whole floats";
  EXPECT_FALSE(p.network->bandwidth.empty());
  // project reads the calibrated network from it.
  const auto proj = run_command(exe() + " project --problem b1_h4_sq256_d32 --gflops 50 --ranks 1,2,4 --network "
                                        "calibrated --machine " + shell_quote(out),
                                dir.path());
  EXPECT_EQ(proj.code, 0) << proj.err;
  EXPECT_NE(proj.out.find("calibrated on 2 ranks"), std::string::npos) << proj.out;
}

TEST(ProjectCli, PrintsEveryStrategyAndWritesProjectionRecords) {
  TempDir dir("project");
  const std::string out = (dir / "proj.jsonl").string();
  const auto r = run_command(exe() + " project --problem b1_h4_sq64_d16_causal --gflops 100 --ranks 1,2,4,8 "
                                     "--network 200Gb-IB --out " + shell_quote(out),
                             dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"tp ", "ring ", "ulysses ", "impossible: 8 ranks but only 4 KV heads", "HDR InfiniBand"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " in:\n" << r.out;
  std::vector<std::string> warnings;
  const std::vector<nlohmann::json> records = read_results(out, &warnings);
  ASSERT_EQ(records.size(), 12u);
  EXPECT_TRUE(warnings.empty());
  for (const nlohmann::json& rec : records) {
    EXPECT_EQ(rec["kind"], "projection");
    if (rec["possible"].get<bool>()) {
      EXPECT_GT(rec["time_s"].get<double>(), 0);
      EXPECT_NEAR(rec["efficiency"].get<double>(), rec["speedup"].get<double>() / rec["ranks"].get<double>(), 1e-12);
    } else {
      EXPECT_TRUE(rec["time_s"].is_null());
      EXPECT_FALSE(rec["reason"].get<std::string>().empty());
    }
  }
}

TEST(ProjectCli, ValidateComparesTheModelWithMpiRecords) {
  TempDir dir("validate");
  const std::string file = (dir / "mpi.jsonl").string();
  // Synthetic records as the MPI kernels write them: a single-rank rate of 1 GFLOP/s and tp at
  // 2 ranks measured 10% slower than the model says, at 4 ranks on 2 cores (oversubscribed).
  auto rec = [](const std::string& kernel, int ranks, double median) {
    return nlohmann::json{{"kernel", kernel}, {"status", "ok"}, {"ranks", ranks}, {"threads", 1},
                          {"problem", {{"batch", 1}, {"heads", 4}, {"kv_heads", 4}, {"seq_q", 100}, {"seq_kv", 100},
                                       {"head_dim", 10}, {"value_dim", 10}, {"mask", "none"},
                                       {"score", "scaled_dot"}, {"projections", false}, {"dtype", "fp32"}}},
                          {"problem_str", "b1_h4_sq100_skv100_d10"},
                          {"work", {{"flops", 1.6e6}}},
                          {"time", {{"median_s", median}}},
                          {"comm", {{"bytes", 0}, {"seconds", 0.0}}},
                          {"provenance", {{"cores", 2}, {"nodes", 1}}}};
  };
  {
    ResultsFile f(file);
    f.append(rec("mha.blocked.serial", 1, 1.6e-3));
    f.append(rec("mha.tp.mpi", 2, 0.809e-3 * 1.1));
    f.append(rec("mha.tp.mpi", 4, 2e-3));
  }
  const std::string net = " --alpha-us 1 --bandwidth-gbps 8";
  const auto ok = run_command(exe() + " project --validate " + shell_quote(file) + net, dir.path());
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("-9%"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("4 ranks x 1 thread(s) on 2 cores"), std::string::npos) << ok.out;
  const auto strict = run_command(exe() + " project --validate " + shell_quote(file) + net + " --tolerance 0.05",
                                  dir.path());
  EXPECT_EQ(strict.code, 1) << "a 9% error is beyond 5%: " << strict.out;
  EXPECT_NE(strict.out.find("beyond the 5% tolerance"), std::string::npos) << strict.out;
}

struct BadInput {
  const char* name;
  const char* args;
  const char* expected;
};

class CalibrateProjectBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CalibrateProjectBadInput, ExitsTwoWithOneLineMessage) {
  TempDir dir("bad");
  const auto r = run_command(exe() + " " + GetParam().args, dir.path());
  EXPECT_EQ(r.code, 2) << GetParam().args << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << "expected '" << GetParam().expected << "' in: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
}

const BadInput kBadInputs[] = {
    {"calibrate_threads_zero", "calibrate --quick --threads 0", "--threads"},
    {"calibrate_threads_word", "calibrate --quick --threads two", "--threads"},
    {"calibrate_max_message", "calibrate --quick --max-message 1", "--max-message"},
    {"calibrate_repetitions", "calibrate --quick --repetitions 0", "--repetitions"},
    {"calibrate_unknown_option", "calibrate --quik", "did you mean '--quick'"},
    {"calibrate_unwritable", "calibrate --quick --threads 1 --out /proc/attnbench/p.json", "--out"},
    {"project_missing_problem", "project --gflops 10", "missing --"},
    {"project_bad_network", "project --problem b1_h4_sq64_d16 --gflops 10 --network 10GbE", "presets: 100GbE"},
    {"project_half_custom", "project --problem b1_h4_sq64_d16 --gflops 10 --alpha-us 2", "--bandwidth-gbps"},
    {"project_both_networks", "project --problem b1_h4_sq64_d16 --gflops 10 --alpha-us 2 --bandwidth-gbps 100 "
                              "--network shm", "choose one"},
    {"project_bad_efficiency", "project --problem b1_h4_sq64_d16 --gflops 10 --alpha-us 2 --bandwidth-gbps 100 "
                               "--efficiency 2", "--efficiency"},
    {"project_calibrated_without_profile", "project --problem b1_h4_sq64_d16 --gflops 10 --network calibrated "
                                           "--machine /nonexistent/p.json", "/nonexistent/p.json"},
    {"project_bad_strategy", "project --problem b1_h4_sq64_d16 --gflops 10 --strategy pipeline", "valid: tp, ring"},
    {"project_bad_ranks", "project --problem b1_h4_sq64_d16 --gflops 10 --ranks 0", "--ranks"},
    {"project_gflops_zero", "project --problem b1_h4_sq64_d16 --gflops 0", "--gflops"},
    {"project_compute_from_missing", "project --problem b1_h4_sq64_d16 --compute-from /nonexistent/r.jsonl",
     "/nonexistent/r.jsonl"},
    {"run_machine_missing", "run --kernel mha.naive.serial --problem b1_h2_sq16_d8 --machine /nonexistent/p.json",
     "--machine: /nonexistent/p.json"},
    {"project_threads_beyond_cpus", "project --problem b1_h4_sq64_d16 --threads 4096", "pass --gflops"},
    {"project_validate_missing", "project --validate /nonexistent/r.jsonl", "/nonexistent/r.jsonl"},
};

INSTANTIATE_TEST_SUITE_P(Cli, CalibrateProjectBadInput, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace attnbench
