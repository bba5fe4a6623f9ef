// The MPI kernels' splits (partition.hpp) and their analytic communication volumes (comm_volume.hpp),
// in closed form on odd sizes. The kernels' measured bytes are checked against the same functions
// under mpirun in test_mpi_kernels.cpp.
#include <gtest/gtest.h>

#include <stdexcept>

#include "attnbench/comm_volume.hpp"
#include "attnbench/partition.hpp"

namespace attnbench {
namespace {

TEST(Partition, EvenShareCoversTheRangeWithSizesDifferingByAtMostOne) {
  for (std::int64_t n : {0, 1, 7, 13, 4096})
    for (int ranks = 1; ranks <= 5; ++ranks) {
      std::int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const Range s = even_share(n, ranks, r);
        EXPECT_EQ(s.begin, next) << n << " over " << ranks;
        EXPECT_TRUE(s.size() == n / ranks || s.size() == n / ranks + 1);
        EXPECT_EQ(s.size(), n / ranks + (r < n % ranks ? 1 : 0));
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
}

TEST(Partition, HeadsFollowTheirKvHeadGroup) {
  const Problem p = parse_problem("b1_h12_hk3_sq8_d8");
  EXPECT_EQ(heads_of(p, 2, 0), (Range{0, 8}));  // kv heads 0, 1
  EXPECT_EQ(heads_of(p, 2, 1), (Range{8, 12}));  // kv head 2
  EXPECT_EQ(kv_heads_of(p, 3, 2), (Range{2, 3}));
  EXPECT_NE(partition_refusal("tp", p, 4), "");
  EXPECT_NE(partition_refusal("tp", p, 4).find("3 KV heads"), std::string::npos) << partition_refusal("tp", p, 4);
  EXPECT_EQ(partition_refusal("ulysses", p, 3), "");
}

TEST(Partition, CausalRingIsZigZag) {
  const Problem causal = parse_problem("b1_h2_sq13_d8_causal"), plain = parse_problem("b1_h2_sq13_d8");
  EXPECT_EQ(ring_chunks(causal, 1), 1);
  EXPECT_EQ(ring_chunks(causal, 3), 6);
  EXPECT_EQ(ring_chunks(plain, 3), 3);
  // 13 rows in 6 chunks of 3 2 2 2 2 2: rank 0 holds chunks 0 and 5, rank 2 chunks 2 and 3.
  EXPECT_EQ(ring_rows(causal, 13, 3, 0), (std::vector<Range>{{0, 3}, {11, 13}}));
  EXPECT_EQ(ring_rows(causal, 13, 3, 2), (std::vector<Range>{{5, 7}, {7, 9}}));
  EXPECT_EQ(ring_rows(plain, 13, 3, 1), (std::vector<Range>{{5, 9}}));
  EXPECT_EQ(partition_refusal("ring", causal, 6), "");
  EXPECT_NE(partition_refusal("ring", causal, 7).find("14 chunks"), std::string::npos) << partition_refusal("ring", causal, 7);
  EXPECT_THROW(partition_refusal("pipeline", plain, 2), std::invalid_argument);
}

TEST(CommVolume, IsZeroOnOneRank) {
  for (const char* s : {"tp", "ring", "ulysses"})
    for (const PhaseVolume& v : comm_volume(s, parse_problem("b2_h4_sq9_d8_proj"), 1)) {
      EXPECT_EQ(v.bytes_sent_per_rank, 0) << s;
      EXPECT_EQ(v.messages_per_rank, 0) << s;
    }
}

TEST(CommVolume, MegatronForwardIsOneAllReduceOfTheOutput) {
  const Problem p = parse_problem("b2_h6_sq9_d8_proj");
  EXPECT_EQ(comm_volume("tp", p, 4), (std::vector<PhaseVolume>{{"allreduce", 2 * 9 * 48 * 4, 1}}));
}

TEST(CommVolume, TensorParallelCoreGathersHeadsOnRankZero) {
  const Problem p = parse_problem("b2_h5_sq9_d8_dv16");  // 5 heads over 2 ranks: 3 + 2
  EXPECT_EQ(comm_volume_of_rank("tp", p, 2, 0), (std::vector<PhaseVolume>{{"gather", 0, 0}}));
  EXPECT_EQ(comm_volume_of_rank("tp", p, 2, 1), (std::vector<PhaseVolume>{{"gather", 2 * 9 * 2 * 16 * 4, 1}}));
  EXPECT_EQ(comm_volume("tp", p, 2), comm_volume_of_rank("tp", p, 2, 1));
}

TEST(CommVolume, RingSendsAllButOneKvBlock) {
  const Problem p = parse_problem("b1_h4_hk2_sq12_d8_dv16");  // even: (P-1)/P of K and V
  const std::int64_t kv_bytes = 12 * 2 * (8 + 16) * 4;
  EXPECT_EQ(comm_volume("ring", p, 4), (std::vector<PhaseVolume>{{"ring_step", kv_bytes * 3 / 4, 3}}));
  // Uneven (13 rows over 2 ranks: 7 + 6): rank 0 sends its own 7 rows, rank 1 its 6.
  const Problem odd = parse_problem("b1_h4_hk2_sq13_d8_dv16");
  EXPECT_EQ(comm_volume_of_rank("ring", odd, 2, 0)[0].bytes_sent_per_rank, 7 * 2 * 24 * 4);
  EXPECT_EQ(comm_volume_of_rank("ring", odd, 2, 1)[0].bytes_sent_per_rank, 6 * 2 * 24 * 4);
}

TEST(CommVolume, UlyssesIsFourAllToAlls) {
  const Problem p = parse_problem("b1_h4_sq8_d8");  // P=2: every block a quarter... of Q, K, V and O
  const std::int64_t quarter = 8 * 4 * 8 * 4 / 4;
  EXPECT_EQ(comm_volume("ulysses", p, 2), (std::vector<PhaseVolume>{{"alltoall", 4 * quarter, 4}}));
  EXPECT_EQ(comm_volume("ulysses", p, 4)[0].messages_per_rank, 4 * 3);
}

}  // namespace
}  // namespace attnbench
