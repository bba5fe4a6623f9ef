#include "perf_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "attnbench/cost_model.hpp"
#include "attnbench/partition.hpp"

namespace attnbench {

// ---------------------------------------------------------------------------------------------
// Collectives
// ---------------------------------------------------------------------------------------------

CollectiveCost collective_cost(NetOp op, int ranks) {
  const double p = ranks;
  switch (op) {
    case NetOp::allreduce: return {2 * (p - 1), 2 * (p - 1) / p};
    case NetOp::alltoall: return {p - 1, (p - 1) / p};
    case NetOp::pingpong:
    case NetOp::sendrecv_ring: return {1, 1};
  }
  return {1, 1};
}

double collective_seconds(NetOp op, int ranks, double bytes, const AlphaBeta& link) {
  if (ranks <= 1) return 0;  // one rank communicates nothing
  const CollectiveCost c = collective_cost(op, ranks);
  return c.latencies * link.alpha_s + c.byte_factor * bytes * link.beta_s_per_byte;
}

AlphaBeta link_from_collective_fit(NetOp op, int ranks, const AlphaBeta& fit) {
  if (ranks < 2)
    throw std::invalid_argument("link_from_collective_fit: a collective calibrated on " + std::to_string(ranks) +
                                " rank says nothing about the network; calibrate with 2 or more ranks");
  const CollectiveCost c = collective_cost(op, ranks);
  return {fit.alpha_s / c.latencies, fit.beta_s_per_byte / c.byte_factor};
}

// ---------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------

const AlphaBeta& NetworkModel::link(NetOp op) const {
  switch (op) {
    case NetOp::allreduce: return allreduce;
    case NetOp::alltoall: return alltoall;
    case NetOp::sendrecv_ring: return sendrecv_ring;
    case NetOp::pingpong: break;
  }
  return pingpong;
}

namespace {

NetworkModel uniform(std::string name, std::string description, AlphaBeta link) {
  return {std::move(name), std::move(description), link, link, link, link};
}

std::string figure(double value, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g %s", value, unit);
  return buf;
}

}  // namespace

std::vector<std::string> network_preset_names() { return {"100GbE", "200Gb-IB", "shm"}; }

NetworkModel network_preset(std::string_view name) {
  // Nominal link rate x an efficiency for what MPI reaches in practice (OSU osu_bw on such links).
  if (name == "100GbE") return uniform("100GbE", "100 Gb/s Ethernet preset: alpha 5 us, 12.5 GB/s x 0.80 efficiency = 10 GB/s",
                                       {5e-6, 1 / (12.5e9 * 0.80)});
  if (name == "200Gb-IB") return uniform("200Gb-IB", "HDR InfiniBand preset: alpha 1.5 us, 25 GB/s x 0.90 efficiency = 22.5 GB/s",
                                         {1.5e-6, 1 / (25e9 * 0.90)});
  if (name == "shm") return uniform("shm", "intra-node shared-memory preset: alpha 0.5 us, 10 GB/s", {0.5e-6, 1 / 10e9});
  std::string names;
  for (const std::string& n : network_preset_names()) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown network '" + std::string(name) + "'; presets: " + names +
                              ", or 'calibrated' (a profile from 'attnbench calibrate' under mpirun)");
}

NetworkModel network_custom(double alpha_us, double gbit_per_s, double efficiency) {
  if (!(std::isfinite(alpha_us) && alpha_us >= 0))
    throw std::invalid_argument("network: alpha must be a finite number of microseconds >= 0");
  if (!(std::isfinite(gbit_per_s) && gbit_per_s > 0))
    throw std::invalid_argument("network: bandwidth must be a finite number of Gbit/s > 0");
  if (!(efficiency > 0 && efficiency <= 1)) throw std::invalid_argument("network: efficiency must be in (0, 1]");
  const double bytes_per_s = gbit_per_s * 1e9 / 8 * efficiency;
  return uniform("custom",
                 "custom: alpha " + figure(alpha_us, "us") + ", " + figure(gbit_per_s, "Gbit/s") + " x " +
                     figure(efficiency, "efficiency") + " = " + figure(bytes_per_s * 1e-9, "GB/s"),
                 {alpha_us * 1e-6, 1 / bytes_per_s});
}

NetworkModel network_from_calibration(const NetworkCalibration& net) {
  const NetOpCalibration* pp = net.find(NetOp::pingpong);
  if (!pp) throw std::invalid_argument("the profile's network calibration has no ping-pong fit; re-run calibrate");
  NetworkModel m = uniform("calibrated", "", pp->fit.model);
  m.description = "calibrated on " + std::to_string(net.ranks) + " ranks, " + std::to_string(net.host_count()) +
                  " host(s)" + (net.transport.empty() ? "" : ", btl " + net.transport) + ": ping-pong alpha " +
                  figure(pp->fit.model.alpha_s * 1e6, "us") + ", " + figure(pp->fit.model.gbytes_per_s(), "GB/s");
  for (NetOp op : {NetOp::allreduce, NetOp::alltoall, NetOp::sendrecv_ring})
    if (const NetOpCalibration* c = net.find(op)) {
      AlphaBeta& link = op == NetOp::allreduce ? m.allreduce : op == NetOp::alltoall ? m.alltoall : m.sendrecv_ring;
      link = link_from_collective_fit(op, net.ranks, c->fit.model);
    }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Compute
// ---------------------------------------------------------------------------------------------

double ComputeModel::share(int ranks) const {
  if (cores_per_node <= 0) return 1;
  const int on_node = std::max(1, std::min(ranks, ranks_per_node));
  return std::min(1.0, double(cores_per_node) / (double(on_node) * threads));
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::tp: return "tp";
    case Strategy::ring: return "ring";
    case Strategy::ulysses: return "ulysses";
  }
  return "?";
}

Strategy strategy_from_string(std::string_view name) {
  for (Strategy s : kAllStrategies)
    if (name == to_string(s)) return s;
  throw std::invalid_argument("unknown strategy '" + std::string(name) + "' (valid: tp, ring, ulysses)");
}

std::string kernel_id(Strategy s) { return std::string("mha.") + to_string(s) + ".mpi"; }

CommTerm comm_term(std::string phase, std::int64_t bytes_sent_per_rank, std::int64_t messages_per_rank) {
  CommTerm t;
  if (phase == "allreduce") t.op = NetOp::allreduce, t.pricing = Pricing::ring_allreduce;
  else if (phase == "alltoall") t.op = NetOp::alltoall;
  else if (phase == "ring_step") t.op = NetOp::sendrecv_ring, t.overlapped = true;
  else if (phase == "gather") t.pricing = Pricing::into_root;
  t.phase = std::move(phase);
  t.bytes_sent_per_rank = bytes_sent_per_rank;
  t.messages_per_rank = messages_per_rank;
  return t;
}

std::vector<CommTerm> strategy_comm(Strategy strategy, const Problem& p, int ranks) {
  std::vector<CommTerm> terms;
  for (const PhaseVolume& v : comm_volume(to_string(strategy), p, ranks))
    terms.push_back(comm_term(v.phase, v.bytes_sent_per_rank, v.messages_per_rank));
  return terms;
}

std::optional<std::string> impossible_reason(Strategy strategy, const Problem& p, int ranks) {
  std::string why = partition_refusal(to_string(strategy), p, ranks);
  if (why.empty()) return std::nullopt;
  return why;
}

RankFlops busiest_rank_flops(Strategy strategy, const Problem& p, int ranks) {
  const FlopCount f = flops(p);
  const double attention = f.score + f.weighting;
  std::int64_t heads = 0, ring_rows_max = 0;
  for (int r = 0; r < ranks; ++r) {
    heads = std::max(heads, heads_of(p, ranks, r).size());
    std::int64_t rows = 0;
    for (const Range& range : ring_rows(p, p.seq_q, ranks, r)) rows += range.size();
    ring_rows_max = std::max(ring_rows_max, rows);
  }
  const double head_share = double(heads) / double(p.heads);
  const double seq_share = double(even_share(p.seq_q, ranks, 0).size()) / double(p.seq_q);  // rank 0 holds the most
  const double ring_share = double(ring_rows_max) / double(p.seq_q);
  switch (strategy) {
    case Strategy::tp: return {attention * head_share, f.projections * head_share};
    case Strategy::ulysses: return {attention * head_share, f.projections * seq_share};
    case Strategy::ring: return {attention * ring_share, f.projections * ring_share};
  }
  return {attention, f.projections};
}

namespace {

PhaseTime price(const CommTerm& term, int ranks, const AlphaBeta& link) {
  PhaseTime t{term, 0, 0};
  const double messages = double(term.messages_per_rank), bytes = double(term.bytes_sent_per_rank);
  switch (term.pricing) {
    case Pricing::sent_per_rank:
      t.latency_s = messages * link.alpha_s;
      t.seconds = t.latency_s + bytes * link.beta_s_per_byte;
      break;
    case Pricing::ring_allreduce: {
      const CollectiveCost c = collective_cost(NetOp::allreduce, ranks);
      t.latency_s = messages * c.latencies * link.alpha_s;
      t.seconds = t.latency_s + c.byte_factor * bytes * link.beta_s_per_byte;
      break;
    }
    case Pricing::into_root:
      t.latency_s = (ranks - 1) * messages * link.alpha_s;
      t.seconds = t.latency_s + (ranks - 1) * bytes * link.beta_s_per_byte;
      break;
  }
  return t;
}

}  // namespace

Projection project_with(Strategy strategy, const Problem& p, int ranks, const ComputeModel& compute,
                        const NetworkModel& net, const std::vector<CommTerm>& comm) {
  if (ranks < 1) throw std::invalid_argument("project: ranks must be >= 1 (got " + std::to_string(ranks) + ")");
  if (!(compute.gflops > 0) || compute.threads < 1)
    throw std::invalid_argument("project: the compute rate must be > 0 GFLOP/s with >= 1 thread per rank");
  Projection r;
  r.strategy = strategy;
  r.ranks = ranks;
  if (auto why = impossible_reason(strategy, p, ranks)) {
    r.possible = false;
    r.reason = *why;
    return r;
  }
  const double rate = compute.gflops * 1e9;
  r.share = compute.share(ranks);
  const RankFlops work = busiest_rank_flops(strategy, p, ranks);
  r.flops_per_rank = work.total();
  r.compute_s = r.flops_per_rank / (rate * r.share);

  double overlapped_s = 0, exposed_s = 0;
  std::string dominant = "compute";
  double dominant_s = r.compute_s;
  for (const CommTerm& term : comm) {
    const PhaseTime t = price(term, ranks, net.link(term.op));
    r.comm_s += t.seconds;
    (term.overlapped && ranks > 1 ? overlapped_s : exposed_s) += t.seconds;
    r.phases.push_back(t);
  }
  // Ring steps: P computes of c each, P - 1 transfers of m each, transfer k+1 under compute k.
  double ring_exposed = 0;
  if (overlapped_s > 0) {
    const double c = work.attention / (rate * r.share) / ranks, m = overlapped_s / (ranks - 1);
    ring_exposed = (ranks - 1) * std::max(0.0, m - c);
  }
  r.exposed_comm_s = exposed_s + ring_exposed;
  r.time_s = r.compute_s + r.exposed_comm_s;
  // The dominant term: compute, or the phase whose exposed share is largest.
  for (const PhaseTime& t : r.phases) {
    const double exposed = t.term.overlapped && overlapped_s > 0 ? ring_exposed * t.seconds / overlapped_s : t.seconds;
    if (exposed > dominant_s) {
      dominant_s = exposed;
      dominant = t.term.phase + (t.latency_s > t.seconds - t.latency_s ? " (latency)" : " (bandwidth)");
    }
  }
  r.dominant = dominant;
  const double single = flops(p).total() / rate;
  r.speedup = single / r.time_s;
  r.efficiency = r.speedup / ranks;
  return r;
}

Projection project(Strategy strategy, const Problem& p, int ranks, const ComputeModel& compute,
                   const NetworkModel& net) {
  const bool possible = ranks >= 1 && !impossible_reason(strategy, p, ranks);
  return project_with(strategy, p, ranks, compute, net, possible ? strategy_comm(strategy, p, ranks) : std::vector<CommTerm>{});
}

}  // namespace attnbench
