#include "machine_profile.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace attnbench {

const char* to_string(NetOp op) {
  switch (op) {
    case NetOp::pingpong: return "pingpong";
    case NetOp::allreduce: return "allreduce";
    case NetOp::alltoall: return "alltoall";
    case NetOp::sendrecv_ring: return "sendrecv_ring";
  }
  return "?";
}

NetOp net_op_from_string(std::string_view name) {
  for (NetOp op : kAllNetOps)
    if (name == to_string(op)) return op;
  throw std::invalid_argument("unknown network operation '" + std::string(name) +
                              "' (valid: pingpong, allreduce, alltoall, sendrecv_ring)");
}

const NetOpCalibration* NetworkCalibration::find(NetOp op) const {
  for (const NetOpCalibration& c : operations)
    if (c.op == op) return &c;
  return nullptr;
}

int NetworkCalibration::host_count() const { return int(std::set<std::string>(hosts.begin(), hosts.end()).size()); }

nlohmann::json to_json(const MachineProfile& profile) {
  nlohmann::json j{{"kind", kMachineProfileKind},
                   {"profile_version", kMachineProfileVersion},
                   {"quick", profile.quick},
                   {"cores", profile.cores},
                   {"provenance", profile.provenance},
                   {"compute", to_json(profile.compute)},
                   {"network", nullptr}};
  if (const auto& n = profile.network) {
    nlohmann::json ops = nlohmann::json::object();
    for (const NetOpCalibration& c : n->operations) {
      nlohmann::json points = nlohmann::json::array();
      for (const NetPoint& p : c.points)
        points.push_back({{"bytes", p.bytes}, {"iterations", p.iterations}, {"repetitions", p.repetitions},
                          {"median_s", p.median_s}, {"min_s", p.min_s}, {"max_s", p.max_s}});
      ops[to_string(c.op)] = {{"points", points}, {"fit", to_json(c.fit)}};
    }
    nlohmann::json bw = nlohmann::json::array();
    for (const BandwidthPoint& b : n->bandwidth)
      bw.push_back({{"bytes", b.bytes}, {"window", b.window}, {"gbytes_per_s", b.gbytes_per_s}});
    j["network"] = {{"ranks", n->ranks},
                    {"hosts", n->hosts},
                    {"host_count", n->host_count()},
                    {"pingpong_ranks", {0, n->pingpong_peer}},
                    {"transport", n->transport},
                    {"bandwidth", bw},
                    {"operations", ops}};
  }
  return j;
}

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& rule) {
  throw ProfileError("machine profile: " + where + " " + rule);
}

const nlohmann::json& member(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.is_object()) fail(where.empty() ? "the document" : where, "must be a JSON object");
  if (!j.contains(key)) fail(where + key, "is missing");
  return j.at(key);
}

double number(const nlohmann::json& j, const std::string& key, const std::string& where, double min) {
  const nlohmann::json& v = member(j, key, where);
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(where + key, "must be a finite number");
  if (v.get<double>() < min) fail(where + key, "must be >= " + std::to_string(min));
  return v.get<double>();
}

std::int64_t integer(const nlohmann::json& j, const std::string& key, const std::string& where, std::int64_t min) {
  const nlohmann::json& v = member(j, key, where);
  if (!v.is_number_integer()) fail(where + key, "must be a whole number");
  if (v.get<std::int64_t>() < min) fail(where + key, "must be >= " + std::to_string(min));
  return v.get<std::int64_t>();
}

NetworkCalibration network_from_json(const nlohmann::json& n) {
  const std::string w = "network.";
  NetworkCalibration net;
  net.ranks = int(integer(n, "ranks", w, 2));
  const nlohmann::json& hosts = member(n, "hosts", w);
  if (!hosts.is_array() || hosts.size() != std::size_t(net.ranks))
    fail(w + "hosts", "must be an array of one host name per rank (" + std::to_string(net.ranks) + ")");
  for (const nlohmann::json& h : hosts) {
    if (!h.is_string()) fail(w + "hosts", "must hold strings");
    net.hosts.push_back(h.get<std::string>());
  }
  const nlohmann::json& pair = member(n, "pingpong_ranks", w);
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer() || pair[1].get<int>() < 1 ||
      pair[1].get<int>() >= net.ranks)
    fail(w + "pingpong_ranks", "must be [0, peer] with 1 <= peer < ranks");
  net.pingpong_peer = pair[1].get<int>();
  if (n.contains("transport") && n["transport"].is_string()) net.transport = n["transport"].get<std::string>();
  const nlohmann::json& bw = member(n, "bandwidth", w);
  if (!bw.is_array()) fail(w + "bandwidth", "must be an array");
  for (std::size_t i = 0; i < bw.size(); ++i) {
    const std::string at = w + "bandwidth[" + std::to_string(i) + "].";
    net.bandwidth.push_back({integer(bw[i], "bytes", at, 1), int(integer(bw[i], "window", at, 1)),
                             number(bw[i], "gbytes_per_s", at, 0)});
  }
  const nlohmann::json& ops = member(n, "operations", w);
  if (!ops.is_object()) fail(w + "operations", "must be an object keyed by operation name");
  for (const auto& [name, value] : ops.items()) {
    NetOpCalibration c;
    try {
      c.op = net_op_from_string(name);
    } catch (const std::invalid_argument& e) {
      fail(w + "operations", e.what());
    }
    const std::string at = w + "operations." + name + ".";
    const nlohmann::json& points = member(value, "points", at);
    if (!points.is_array() || points.size() < 2) fail(at + "points", "must be an array of at least 2 sizes");
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::string pt = at + "points[" + std::to_string(i) + "].";
      NetPoint p;
      p.bytes = integer(points[i], "bytes", pt, 0);
      p.iterations = int(integer(points[i], "iterations", pt, 1));
      p.repetitions = int(integer(points[i], "repetitions", pt, 1));
      p.median_s = number(points[i], "median_s", pt, 0);
      p.min_s = number(points[i], "min_s", pt, 0);
      p.max_s = number(points[i], "max_s", pt, 0);
      c.points.push_back(p);
    }
    try {
      c.fit = alpha_beta_fit_from_json(member(value, "fit", at), at + "fit.");
    } catch (const std::invalid_argument& e) {
      fail("", e.what());
    }
    net.operations.push_back(std::move(c));
  }
  return net;
}

}  // namespace

MachineProfile machine_profile_from_json(const nlohmann::json& j) {
  const nlohmann::json& kind = member(j, "kind", "");
  if (!kind.is_string() || kind.get<std::string>() != kMachineProfileKind)
    fail("kind", std::string("must be \"") + kMachineProfileKind + "\": this is not a machine profile (write one with "
                 "'attnbench calibrate')");
  const std::int64_t version = integer(j, "profile_version", "", 0);
  if (version != kMachineProfileVersion)
    fail("profile_version", "is " + std::to_string(version) + " but this attnbench reads version " +
                                std::to_string(kMachineProfileVersion) + "; re-run 'attnbench calibrate' to write a current one");
  MachineProfile p;
  const nlohmann::json& quick = member(j, "quick", "");
  if (!quick.is_boolean()) fail("quick", "must be true or false");
  p.quick = quick.get<bool>();
  p.cores = int(integer(j, "cores", "", 1));
  p.provenance = member(j, "provenance", "");
  if (!p.provenance.is_object()) fail("provenance", "must be an object");
  try {
    p.compute = machine_peak_from_json(member(j, "compute", ""));
  } catch (const std::invalid_argument& e) {
    fail("compute:", e.what());
  }
  if (p.compute.per_threads.empty()) fail("compute.per_threads", "must hold at least one thread count");
  for (const PeakAtThreads& t : p.compute.per_threads)
    if (t.threads < 1 || !(t.fma_gflops > 0) || !(t.triad_gbytes_per_s > 0))
      fail("compute.per_threads", "entries need threads >= 1 and positive fma_gflops and triad_gbytes_per_s");
  const nlohmann::json& net = member(j, "network", "");
  if (!net.is_null()) p.network = network_from_json(net);
  return p;
}

MachineProfile load_machine_profile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ProfileError(path.string() + ": cannot read the machine profile (does it exist? write one with "
                                              "'attnbench calibrate --out " + path.string() + "')");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number beyond a double
    const std::string what = e.what();               // "[json.exception.parse_error.101] parse error at ..."
    const std::size_t at = what.find("] ");
    throw ProfileError(path.string() + ": not valid JSON (" + (at == std::string::npos ? what : what.substr(at + 2)) +
                       "); write a new profile with 'attnbench calibrate --out " + path.string() + "'");
  }
  try {
    return machine_profile_from_json(j);
  } catch (const ProfileError& e) {
    const std::string what = e.what();
    throw ProfileError(path.string() + ": " + what +
                       (what.find("attnbench calibrate") == std::string::npos
                            ? "; write a new profile with 'attnbench calibrate --out " + path.string() + "'"
                            : ""));
  }
}

std::filesystem::path default_machine_profile_path() {
  if (const char* env = std::getenv("ATTNBENCH_MACHINE_PROFILE"); env && *env) return env;
  return std::filesystem::path("results") / "machine-profile.json";
}

}  // namespace attnbench
