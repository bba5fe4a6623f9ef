// The performance model (perf_model.hpp), the alpha-beta fit (alpha_beta.hpp), the compute rate
// from records (compute_rate.hpp) and the model's validation (model_validation.hpp), on cases
// computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "alpha_beta.hpp"
#include "attnbench/comm_volume.hpp"
#include "attnbench/cost_model.hpp"
#include "compute_rate.hpp"
#include "model_validation.hpp"
#include "perf_model.hpp"
#include "problem_json.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::make_problem;

std::vector<SizeTime> synthetic(double alpha, double beta, double noise = 0, unsigned seed = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> jitter(-noise, noise);
  std::vector<SizeTime> points;
  for (double n = 1; n <= double(1 << 26); n *= 2) points.push_back({n, (alpha + n * beta) * (1 + jitter(gen))});
  return points;
}

// ---------------------------------------------------------------------------------------------
// alpha-beta fit
// ---------------------------------------------------------------------------------------------

TEST(AlphaBetaFit, RecoversExactAlphaAndBeta) {
  const AlphaBetaFit fit = fit_alpha_beta(synthetic(2e-6, 1e-9));
  EXPECT_NEAR(fit.model.alpha_s, 2e-6, 2e-6 * 1e-9);
  EXPECT_NEAR(fit.model.beta_s_per_byte, 1e-9, 1e-9 * 1e-9);
  EXPECT_NEAR(fit.model.gbytes_per_s(), 1.0, 1e-9);
  EXPECT_LT(fit.rel_rms_residual, 1e-9);
  EXPECT_EQ(fit.points, 27);
}

TEST(AlphaBetaFit, RecoversBothFromNoisyData) {
  // +-5% multiplicative noise, as a loaded machine gives; alpha is decided by the small sizes.
  const AlphaBetaFit fit = fit_alpha_beta(synthetic(5e-6, 1.0 / 12.5e9, 0.05, 7));
  EXPECT_NEAR(fit.model.alpha_s, 5e-6, 0.05 * 5e-6);
  EXPECT_NEAR(fit.model.beta_s_per_byte, 1 / 12.5e9, 0.05 / 12.5e9);
  EXPECT_GT(fit.rel_rms_residual, 0.005);
  EXPECT_LT(fit.max_rel_residual, 0.11);
}

TEST(AlphaBetaFit, ReportsTheResidualOfAProtocolSwitch) {
  // Eager below 4 KiB, rendezvous (an extra round trip) above: no single line fits.
  std::vector<SizeTime> points;
  for (double n = 1; n <= double(1 << 20); n *= 2) points.push_back({n, (n < 4096 ? 1e-6 : 6e-6) + n * 1e-10});
  const AlphaBetaFit fit = fit_alpha_beta(points);
  EXPECT_GT(fit.max_rel_residual, 0.3);
  EXPECT_GE(fit.model.alpha_s, 0);
}

TEST(AlphaBetaFit, NeverReturnsANegativeAlpha) {
  // Pure bandwidth data with a little noise could drive a free fit below zero.
  std::vector<SizeTime> points{{1024, 1.02e-6}, {2048, 1.99e-6}, {4096, 4.1e-6}, {8192, 8.0e-6}};
  const AlphaBetaFit fit = fit_alpha_beta(points);
  EXPECT_GE(fit.model.alpha_s, 0);
  EXPECT_NEAR(fit.model.beta_s_per_byte, 1e-9, 0.05e-9);
}

TEST(AlphaBetaFit, RejectsDataThatCannotDetermineTheLine) {
  EXPECT_THROW(fit_alpha_beta(std::vector<SizeTime>{{8, 1e-6}}), std::invalid_argument);
  EXPECT_THROW(fit_alpha_beta(std::vector<SizeTime>{{8, 1e-6}, {8, 2e-6}}), std::invalid_argument);
  EXPECT_THROW(fit_alpha_beta(std::vector<SizeTime>{{8, 1e-6}, {16, 0}}), std::invalid_argument);
  EXPECT_THROW(fit_alpha_beta(std::vector<SizeTime>{{-8, 1e-6}, {16, 2e-6}}), std::invalid_argument);
  EXPECT_THROW(fit_alpha_beta(std::vector<SizeTime>{{8, NAN}, {16, 2e-6}}), std::invalid_argument);
}

TEST(AlphaBetaFit, JsonRoundTrip) {
  const AlphaBetaFit fit = fit_alpha_beta(synthetic(1e-6, 2e-10, 0.02));
  const AlphaBetaFit back = alpha_beta_fit_from_json(to_json(fit), "fit.");
  EXPECT_DOUBLE_EQ(back.model.alpha_s, fit.model.alpha_s);
  EXPECT_DOUBLE_EQ(back.model.beta_s_per_byte, fit.model.beta_s_per_byte);
  EXPECT_DOUBLE_EQ(back.rel_rms_residual, fit.rel_rms_residual);
  EXPECT_EQ(back.points, fit.points);
  nlohmann::json broken = to_json(fit);
  broken["alpha_s"] = -1;
  try {
    alpha_beta_fit_from_json(broken, "fit.");
    FAIL() << "a negative alpha was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fit.alpha_s"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Collectives and networks
// ---------------------------------------------------------------------------------------------

TEST(Collectives, RingAllReduceAndPairwiseAllToAllCosts) {
  const AlphaBeta link{1e-6, 1e-9};
  // 2(P-1) alpha + 2(P-1)/P n beta = 6 us + 1.5 ms
  EXPECT_DOUBLE_EQ(collective_seconds(NetOp::allreduce, 4, 1e6, link), 6e-6 + 1.5e-3);
  // (P-1)(alpha + n/P beta) = 3 us + 0.75 ms
  EXPECT_DOUBLE_EQ(collective_seconds(NetOp::alltoall, 4, 1e6, link), 3e-6 + 0.75e-3);
  EXPECT_DOUBLE_EQ(collective_seconds(NetOp::sendrecv_ring, 4, 1e6, link), 1e-6 + 1e-3);
  EXPECT_DOUBLE_EQ(collective_seconds(NetOp::pingpong, 2, 0, link), 1e-6);
  EXPECT_EQ(collective_seconds(NetOp::allreduce, 1, 1e6, link), 0) << "one rank communicates nothing";
}

TEST(Collectives, LinkFromAFitReproducesTheFitAtItsRankCount) {
  const AlphaBeta fit{4e-6, 2e-9};
  const AlphaBeta ar = link_from_collective_fit(NetOp::allreduce, 2, fit);
  EXPECT_DOUBLE_EQ(ar.alpha_s, 2e-6);  // 2(P-1) = 2 latencies at P = 2
  EXPECT_DOUBLE_EQ(ar.beta_s_per_byte, 2e-9);
  const AlphaBeta a2a = link_from_collective_fit(NetOp::alltoall, 2, fit);
  EXPECT_DOUBLE_EQ(a2a.alpha_s, 4e-6);
  EXPECT_DOUBLE_EQ(a2a.beta_s_per_byte, 4e-9);  // (P-1)/P = 1/2 of n crosses the link
  for (NetOp op : kAllNetOps)
    for (int P : {2, 3, 8}) {
      const AlphaBeta link = link_from_collective_fit(op, P, fit);
      EXPECT_NEAR(collective_seconds(op, P, 65536, link), fit.seconds(65536), 1e-15) << to_string(op) << " P=" << P;
    }
  EXPECT_THROW(link_from_collective_fit(NetOp::allreduce, 1, fit), std::invalid_argument);
}

TEST(Networks, PresetsAndCustomLinksAreWhatTheDocsSay) {
  const NetworkModel e = network_preset("100GbE");
  EXPECT_DOUBLE_EQ(e.pingpong.alpha_s, 5e-6);
  EXPECT_DOUBLE_EQ(e.allreduce.gbytes_per_s(), 10.0);
  const NetworkModel ib = network_preset("200Gb-IB");
  EXPECT_DOUBLE_EQ(ib.alltoall.alpha_s, 1.5e-6);
  EXPECT_NEAR(ib.sendrecv_ring.gbytes_per_s(), 22.5, 1e-9);
  EXPECT_NO_THROW(network_preset("shm"));
  EXPECT_THROW(network_preset("10GbE"), std::invalid_argument);
  const NetworkModel c = network_custom(2, 100, 0.8);  // 100 Gbit/s = 12.5 GB/s, x 0.8 = 10 GB/s
  EXPECT_DOUBLE_EQ(c.pingpong.alpha_s, 2e-6);
  EXPECT_NEAR(c.pingpong.beta_s_per_byte, 1e-10, 1e-22);
  EXPECT_THROW(network_custom(-1, 100, 1), std::invalid_argument);
  EXPECT_THROW(network_custom(1, 0, 1), std::invalid_argument);
  EXPECT_THROW(network_custom(1, 100, 1.5), std::invalid_argument);
}

TEST(Networks, CalibratedNetworkTurnsEachFitIntoALink) {
  NetworkCalibration net;
  net.ranks = 2;
  net.hosts = {"a", "b"};
  NetOpCalibration pp{NetOp::pingpong, {}, {}}, ar{NetOp::allreduce, {}, {}};
  pp.fit.model = {1e-6, 1e-9};
  ar.fit.model = {3e-6, 2e-9};
  net.operations = {pp, ar};
  const NetworkModel m = network_from_calibration(net);
  EXPECT_EQ(m.name, "calibrated");
  EXPECT_DOUBLE_EQ(m.pingpong.alpha_s, 1e-6);
  EXPECT_DOUBLE_EQ(m.allreduce.alpha_s, 1.5e-6);
  EXPECT_DOUBLE_EQ(m.allreduce.beta_s_per_byte, 2e-9);
  EXPECT_DOUBLE_EQ(m.alltoall.alpha_s, 1e-6) << "not calibrated: the ping-pong link";
  net.operations = {ar};
  EXPECT_THROW(network_from_calibration(net), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Compute split and oversubscription
// ---------------------------------------------------------------------------------------------

TEST(ComputeModel, ShareModelsOversubscribedCores) {
  ComputeModel c;
  c.gflops = 100;
  c.cores_per_node = 2;
  c.ranks_per_node = 4;
  EXPECT_DOUBLE_EQ(c.share(1), 1);
  EXPECT_DOUBLE_EQ(c.share(2), 1);
  EXPECT_DOUBLE_EQ(c.share(4), 0.5);   // 4 ranks on 2 cores
  EXPECT_DOUBLE_EQ(c.share(64), 0.5);  // still 4 per node
  c.threads = 2;
  EXPECT_DOUBLE_EQ(c.share(2), 0.5);
  c.cores_per_node = 0;
  EXPECT_DOUBLE_EQ(c.share(64), 1) << "unknown cores: not modelled";
}

TEST(BusiestRank, TakesTheLargerShareOfAnUnevenSplit) {
  const Problem p = make_problem(1, 3, 3, 6, 6, 2, 2);  // attention = 4*1*3*6*6*2 = 864 flops
  ASSERT_DOUBLE_EQ(flops(p).total(), 864);
  EXPECT_DOUBLE_EQ(busiest_rank_flops(Strategy::tp, p, 1).total(), 864);
  EXPECT_DOUBLE_EQ(busiest_rank_flops(Strategy::tp, p, 2).total(), 576);       // heads 2 + 1
  EXPECT_DOUBLE_EQ(busiest_rank_flops(Strategy::ulysses, p, 3).total(), 288);  // one head each
  EXPECT_DOUBLE_EQ(busiest_rank_flops(Strategy::ring, p, 4).total(), 288);     // rows 2, 2, 1, 1 of 6
  // Projections: tp splits them by head, ulysses and the ring by query rows.
  const Problem proj = make_problem(1, 2, 2, 4, 4, 2, 2, Mask::none, Score::scaled_dot, true);
  const FlopCount f = flops(proj);
  const RankFlops u = busiest_rank_flops(Strategy::ulysses, proj, 2);
  EXPECT_DOUBLE_EQ(u.attention, (f.score + f.weighting) / 2);
  EXPECT_DOUBLE_EQ(u.projections, f.projections / 2);
  const RankFlops r = busiest_rank_flops(Strategy::ring, proj, 3);  // rows 2, 1, 1 of 4
  EXPECT_DOUBLE_EQ(r.projections, f.projections / 2);
}

TEST(Impossible, RanksBeyondHeadsOrSequenceChunksAreRefused) {
  const Problem p = make_problem(1, 4, 4, 5, 5, 8, 8, Mask::causal);
  EXPECT_FALSE(impossible_reason(Strategy::tp, p, 4));
  EXPECT_TRUE(impossible_reason(Strategy::tp, p, 5));
  EXPECT_TRUE(impossible_reason(Strategy::ulysses, p, 8));
  EXPECT_FALSE(impossible_reason(Strategy::ring, p, 2));  // 4 zig-zag chunks of 5 rows
  EXPECT_TRUE(impossible_reason(Strategy::ring, p, 3));   // 6 chunks > 5 rows
  ComputeModel c;
  c.gflops = 1;
  const Projection r = project(Strategy::ring, p, 3, c, network_preset("shm"));
  EXPECT_FALSE(r.possible);
  EXPECT_NE(r.reason.find("chunks"), std::string::npos) << r.reason;
  EXPECT_EQ(r.time_s, 0);
}

// ---------------------------------------------------------------------------------------------
// Projections by hand
// ---------------------------------------------------------------------------------------------

ComputeModel one_gflops() {
  ComputeModel c;
  c.gflops = 1;
  return c;
}

TEST(Project, TensorParallelGatherIntoRank0) {
  // b1_h4_sq100_d10: 4*4*100*100*10 = 1.6e6 flops, 1.6 ms at 1 GFLOP/s. P = 2: each rank 2 heads,
  // 0.8 ms; rank 1 sends its output [1, 100, 2, 10] fp32 = 8000 bytes to rank 0 in 1 message.
  const Problem p = make_problem(1, 4, 4, 100, 100, 10, 10);
  const NetworkModel net = network_custom(1, 8, 1);  // alpha 1 us, 1 GB/s: beta 1 ns/byte
  const std::vector<CommTerm> comm = strategy_comm(Strategy::tp, p, 2);
  ASSERT_EQ(comm.size(), 1u);
  EXPECT_EQ(comm[0].phase, "gather");
  EXPECT_EQ(comm[0].pricing, Pricing::into_root);
  EXPECT_EQ(comm[0].bytes_sent_per_rank, 8000);
  const Projection r = project(Strategy::tp, p, 2, one_gflops(), net);
  EXPECT_NEAR(r.compute_s, 0.8e-3, 1e-15);
  EXPECT_NEAR(r.comm_s, 1e-6 + 8e-6, 1e-15);  // (P-1) x (alpha + 8000 beta)
  EXPECT_NEAR(r.exposed_comm_s, r.comm_s, 1e-15);
  EXPECT_NEAR(r.time_s, 0.809e-3, 1e-15);
  EXPECT_NEAR(r.speedup, 1.6 / 0.809, 1e-9);
  EXPECT_NEAR(r.efficiency, r.speedup / 2, 1e-12);
  EXPECT_EQ(r.dominant, "compute");
  // P = 4 into root: 3 messages of 4000 bytes one after another at rank 0.
  const Projection r4 = project(Strategy::tp, p, 4, one_gflops(), net);
  EXPECT_NEAR(r4.comm_s, 3 * (1e-6 + 4000e-9), 1e-15);
}

TEST(Project, AllReduceIsPricedAsARingAllReduceOfThePayload) {
  const Problem p = make_problem(1, 4, 4, 16, 16, 8, 8, Mask::none, Score::scaled_dot, true);
  const std::vector<PhaseVolume> v = comm_volume("tp", p, 4);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_EQ(v[0].phase, "allreduce");
  const double n = 1 * 16 * 32 * 4;  // B x L x E fp32
  ASSERT_EQ(v[0].bytes_sent_per_rank, std::int64_t(n));
  const NetworkModel net = network_custom(1, 8, 1);
  const Projection r = project(Strategy::tp, p, 4, one_gflops(), net);
  ASSERT_EQ(r.phases.size(), 1u);
  EXPECT_NEAR(r.phases[0].seconds, 6e-6 + 1.5 * n * 1e-9, 1e-15);  // 2(P-1) alpha + 2(P-1)/P n beta
  EXPECT_NEAR(r.phases[0].latency_s, 6e-6, 1e-18);
  EXPECT_NEAR(r.time_s, flops(p).total() / 4 * 1e-9 + r.phases[0].seconds, 1e-15);
}

TEST(Project, RingHidesTransfersShorterThanAStepAndExposesTheRest) {
  // b1_h1_sq400_d10: 4*400*400*10 = 6.4e6 flops, 6.4 ms at 1 GFLOP/s. P = 4: 1.6 ms per rank,
  // c = 0.4 ms per step; each of the 3 transfers sends a K and V block: 100 rows x (10 + 10) x 4 B.
  const Problem p = make_problem(1, 1, 1, 400, 400, 10, 10);
  const std::vector<CommTerm> comm = strategy_comm(Strategy::ring, p, 4);
  ASSERT_EQ(comm.size(), 1u);
  ASSERT_TRUE(comm[0].overlapped);
  ASSERT_EQ(comm[0].bytes_sent_per_rank, 3 * 8000);
  const double messages = double(comm[0].messages_per_rank);
  // Fast network: m = (messages alpha + 24000 beta) / 3 << c: nothing exposed.
  const Projection fast = project(Strategy::ring, p, 4, one_gflops(), network_custom(1, 8, 1));
  EXPECT_NEAR(fast.compute_s, 1.6e-3, 1e-15);
  EXPECT_NEAR(fast.comm_s, messages * 1e-6 + 24000e-9, 1e-15);
  EXPECT_EQ(fast.exposed_comm_s, 0);
  EXPECT_NEAR(fast.time_s, 1.6e-3, 1e-15);
  EXPECT_NEAR(fast.speedup, 4, 1e-9);
  // Slow network, beta = 200 ns/byte: m = (messages x 1 us + 24000 x 200 ns) / 3 > c.
  const Projection slow = project(Strategy::ring, p, 4, one_gflops(), network_custom(1, 0.04, 1));
  const double m = (messages * 1e-6 + 24000 * 2e-7) / 3;
  EXPECT_NEAR(slow.exposed_comm_s, 3 * (m - 0.4e-3), 1e-12);
  EXPECT_NEAR(slow.time_s, 0.4e-3 + 3 * m, 1e-12);  // c + (P-1) max(c, m)
  EXPECT_EQ(slow.dominant, "ring_step (bandwidth)");
}

TEST(Project, UlyssesAllToAllsAreExposed) {
  const Problem p = make_problem(1, 4, 4, 64, 64, 16, 16);
  const NetworkModel net = network_custom(1, 8, 1);
  const Projection r = project(Strategy::ulysses, p, 4, one_gflops(), net);
  ASSERT_EQ(r.phases.size(), 1u);
  const CommTerm& t = r.phases[0].term;
  EXPECT_EQ(t.op, NetOp::alltoall);
  EXPECT_NEAR(r.comm_s, double(t.messages_per_rank) * 1e-6 + double(t.bytes_sent_per_rank) * 1e-9, 1e-15);
  EXPECT_NEAR(r.time_s, r.compute_s + r.comm_s, 1e-15);
}

TEST(Project, OversubscribedRanksComputeAtTheirShareOfTheCores) {
  const Problem p = make_problem(1, 4, 4, 100, 100, 10, 10);
  ComputeModel c = one_gflops();
  c.cores_per_node = 2;
  c.ranks_per_node = 4;
  const Projection r = project(Strategy::tp, p, 4, c, network_custom(0, 8, 1));
  EXPECT_DOUBLE_EQ(r.share, 0.5);
  EXPECT_NEAR(r.compute_s, 1.6e-3 / 4 / 0.5, 1e-15);
}

TEST(Project, OneRankIsTheSingleNodeTimeWithNoCommunication) {
  const Problem p = make_problem(2, 8, 8, 128, 128, 32, 32, Mask::causal);
  for (Strategy s : kAllStrategies) {
    const Projection r = project(s, p, 1, one_gflops(), network_preset("100GbE"));
    EXPECT_EQ(r.comm_s, 0) << to_string(s);
    EXPECT_NEAR(r.time_s, flops(p).total() * 1e-9, 1e-15) << to_string(s);
    EXPECT_DOUBLE_EQ(r.speedup, 1) << to_string(s);
  }
  EXPECT_THROW(project(Strategy::tp, p, 0, one_gflops(), network_preset("shm")), std::invalid_argument);
  ComputeModel none;
  EXPECT_THROW(project(Strategy::tp, p, 2, none, network_preset("shm")), std::invalid_argument);
}

TEST(Strategies, NamesAndKernelIds) {
  for (Strategy s : kAllStrategies) EXPECT_EQ(strategy_from_string(to_string(s)), s);
  EXPECT_EQ(kernel_id(Strategy::ring), "mha.ring.mpi");
  EXPECT_THROW(strategy_from_string("pipeline"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Compute rate from records, and validation against synthetic MPI records
// ---------------------------------------------------------------------------------------------

nlohmann::json record(const std::string& kernel, const Problem& p, int ranks, int threads, double median_s,
                      int cores = 2, int nodes = 1) {
  const double f = flops(p).total();
  return {{"kernel", kernel},        {"status", "ok"},
          {"problem", problem_to_json(p)}, {"problem_str", p.str()},
          {"ranks", ranks},          {"threads", threads},
          {"work", {{"flops", f}}},  {"time", {{"median_s", median_s}}},
          {"rate", {{"gflops", f / median_s * 1e-9}}},
          {"comm", {{"bytes", 0}, {"seconds", 0.0}}},
          {"provenance", {{"cores", cores}, {"nodes", nodes}}}};
}

/// The record with one communication phase as the MPI kernels write it.
nlohmann::json with_phase(nlohmann::json r, const std::string& phase, double max_s) {
  r["comm"]["phases"] = {{{"phase", phase}, {"bytes", 8000}, {"seconds", {{"min_s", max_s / 2}, {"mean_s", max_s}, {"max_s", max_s}}}}};
  return r;
}

TEST(ComputeRateFromRecords, PrefersTheProblemItselfElseTheMedian) {
  const Problem a = make_problem(1, 4, 4, 100, 100, 10, 10), b = make_problem(1, 2, 2, 50, 50, 10, 10);
  const std::vector<nlohmann::json> records{
      record("mha.blocked.serial", a, 1, 1, flops(a).total() / 90e9),
      record("mha.blocked.serial", b, 1, 1, flops(b).total() / 80e9),
      record("mha.blocked.serial", b, 1, 2, flops(b).total() / 150e9),
      record("mha.naive.serial", a, 1, 1, flops(a).total() / 5e9)};
  std::vector<nlohmann::json> with_junk = records;
  with_junk.push_back({{"kernel", "mha.blocked.serial"}, {"threads", "one"}});  // passed over, no exception
  with_junk.push_back(nlohmann::json::array());
  EXPECT_NEAR(compute_rate_from_records(with_junk, "mha.blocked.*", 1, a).gflops, 90, 1e-9);
  EXPECT_NEAR(compute_rate_from_records(records, "mha.blocked.*", 1, a).gflops, 90, 1e-9);
  const Problem other = make_problem(1, 8, 8, 64, 64, 8, 8);
  EXPECT_NEAR(compute_rate_from_records(records, "mha.blocked.*", 1, other).gflops, 85, 1e-9);  // median of 90, 80
  EXPECT_NEAR(compute_rate_from_records(records, "mha.blocked.*", 2, other).gflops, 150, 1e-9);
  try {
    compute_rate_from_records(records, "mha.blocked.*", 4, a);
    FAIL() << "no 4-thread record, yet a rate came back";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("4 thread"), std::string::npos) << e.what();
  }
}

TEST(Validation, ComparesWithTheMeasurementAndExplainsOversubscription) {
  // Single-rank rate 1 GFLOP/s from the blocked kernel; tp measured at P = 2 (2 cores) and P = 4
  // (oversubscribed: 4 ranks on 2 cores, rate halves).
  const Problem p = make_problem(1, 4, 4, 100, 100, 10, 10);  // 1.6e6 flops
  const NetworkModel net = network_custom(1, 8, 1);
  const Projection at2 = project(Strategy::tp, p, 2, one_gflops(), net);
  const std::vector<nlohmann::json> records{record("mha.blocked.serial", p, 1, 1, 1.6e-3),
                                            with_phase(record("mha.tp.mpi", p, 2, 1, at2.time_s * 1.1), "gather", 2e-5),
                                            record("mha.tp.mpi", p, 4, 1, 2e-3),
                                            record("mha.ring.mpi", make_problem(1, 1, 1, 8, 8, 4, 4), 2, 1, 1e-3),
                                            {{"kernel", "mha.tp.mpi"}, {"status", "ok"}, {"ranks", "two"}}};
  std::vector<std::string> skipped;
  const std::vector<ValidationRow> rows = validate_model(records, {net, 2, std::nullopt}, &skipped);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(skipped.size(), 1u) << "the ring record has no single-rank rate";
  EXPECT_NE(skipped[0].find("no single-rank record"), std::string::npos) << skipped[0];
  EXPECT_NEAR(rows[0].predicted.time_s, at2.time_s, 1e-15);
  EXPECT_NEAR(rows[0].error, 1 / 1.1 - 1, 1e-9);
  EXPECT_FALSE(rows[0].oversubscribed);
  EXPECT_TRUE(rows[0].note.empty());
  EXPECT_TRUE(rows[1].oversubscribed);
  EXPECT_NEAR(rows[1].predicted.compute_s, 1.6e-3 / 4 / 0.5, 1e-15);
  EXPECT_NE(rows[1].note.find("4 ranks x 1 thread(s) on 2 cores"), std::string::npos) << rows[1].note;
  ASSERT_EQ(rows[0].phases.size(), 1u);
  EXPECT_EQ(rows[0].phases[0].phase, "gather");
  EXPECT_NEAR(*rows[0].phases[0].measured_s, 2e-5, 1e-18);
  EXPECT_NEAR(rows[0].phases[0].predicted_s, 9e-6, 1e-15);  // (P-1)(alpha + 8000 beta)
  EXPECT_FALSE(rows[1].phases[0].measured_s) << "that record has no phases";
  const nlohmann::json j = to_json(rows[1]);
  EXPECT_EQ(j["kind"], "model_validation");
  EXPECT_EQ(j["oversubscribed"], true);
  EXPECT_DOUBLE_EQ(j["measured_s"].get<double>(), 2e-3);
}

TEST(Validation, TwoNodesMeanHalfTheRanksPerNode) {
  const Problem p = make_problem(1, 4, 4, 100, 100, 10, 10);
  const std::vector<nlohmann::json> records{record("mha.tp.mpi", p, 1, 1, 1.6e-3),
                                            record("mha.tp.mpi", p, 4, 1, 1e-3, 2, 2)};
  const std::vector<ValidationRow> rows = validate_model(records, {network_custom(1, 8, 1), 2, std::nullopt}, nullptr);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].nodes, 2);
  EXPECT_FALSE(rows[1].oversubscribed) << "2 ranks on each 2-core node";
  EXPECT_NEAR(rows[0].error, 0, 1e-12) << "P = 1 priced from its own rate";
}

}  // namespace
}  // namespace attnbench
