// Provenance of multi-host runs: the ranks' hosts, grouped (the MPI gather itself is exercised by
// the two-host tests in tests/cluster, which need a launcher).
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "provenance.hpp"
#include "rank_hosts.hpp"

namespace {

using attnbench::group_rank_hosts;

TEST(RankHosts, GroupsRanksByHostInOrderOfTheirLowestRank) {
  const auto g = group_rank_hosts({"n2", "n2", "n1", "n2", "n3"});
  EXPECT_EQ(g.hosts, (std::vector<std::string>{"n2", "n1", "n3"}));
  EXPECT_EQ(g.rank_host, (std::vector<int>{0, 0, 1, 0, 2}));
}

TEST(RankHosts, WithoutMpiTheOneProcessIsOneHost) {
  const auto g = attnbench::gather_rank_hosts("vm");
  EXPECT_EQ(g.hosts, std::vector<std::string>{"vm"});
  EXPECT_EQ(g.rank_host, std::vector<int>{0});
}

TEST(RankHosts, SlurmNodeNameWinsOverTheSharedHostName) {
  ::unsetenv("SLURMD_NODENAME");
  EXPECT_EQ(attnbench::node_name("vm"), "vm");
  ::setenv("SLURMD_NODENAME", "n2", 1);
  EXPECT_EQ(attnbench::node_name("vm"), "n2");
  ::setenv("SLURMD_NODENAME", "", 1);  // set but empty: not a node name
  EXPECT_EQ(attnbench::node_name("vm"), "vm");
  ::unsetenv("SLURMD_NODENAME");
}

TEST(RankHosts, ProvenanceNamesTheHostsOfASingleProcessRun) {
  ::unsetenv("SLURMD_NODENAME");
  ::unsetenv("SLURM_JOB_ID");
  const auto p = attnbench::provenance(1, 1);
  EXPECT_EQ(p.at("hosts"), nlohmann::json::array({p.at("host")}));
  EXPECT_EQ(p.at("nodes"), 1);
  EXPECT_EQ(p.at("rank_hosts"), nlohmann::json::array({0}));
  EXPECT_FALSE(p.contains("slurm_job_id"));

  ::setenv("SLURM_JOB_ID", "4242", 1);
  ::setenv("SLURMD_NODENAME", "n1", 1);
  const auto q = attnbench::provenance(1, 1);
  EXPECT_EQ(q.at("slurm_job_id"), "4242");
  EXPECT_EQ(q.at("hosts"), nlohmann::json::array({"n1"}));
  ::unsetenv("SLURM_JOB_ID");
  ::unsetenv("SLURMD_NODENAME");
}

}  // namespace
