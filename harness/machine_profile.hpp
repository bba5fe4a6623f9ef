#pragma once
// The machine profile `attnbench calibrate` writes and `run --machine` / `project` read: this
// machine's compute peaks (machine_peak.hpp) and, when calibrated under MPI, its network's
// measured costs and alpha-beta fits. Schema in docs/RESULTS.md ("Machine profile").
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "alpha_beta.hpp"
#include "machine_peak.hpp"

namespace attnbench {

/// Version of the profile schema; a reader refuses any other (the fields' meaning would differ).
inline constexpr int kMachineProfileVersion = 1;
/// The value of the profile's "kind" field, which tells it apart from a results record.
inline constexpr const char* kMachineProfileKind = "machine_profile";

/// A profile could not be read: the message names the file (when there is one), the key and the rule.
class ProfileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The MPI operations calibrate measures. Each one's size n means:
///   pingpong       one message of n bytes between two ranks; time = half the round trip
///   allreduce      MPI_Allreduce (MPI_SUM) of n bytes of floats on every rank
///   alltoall       MPI_Alltoall in which every rank sends n bytes in all (n / P to each rank)
///   sendrecv_ring  one ring step: every rank MPI_Sendrecv's n bytes to its right neighbour while
///                  receiving n bytes from its left one
/// time = the maximum over ranks of the per-operation time (median of repetitions).
enum class NetOp { pingpong, allreduce, alltoall, sendrecv_ring };
const char* to_string(NetOp op);
/// Throws std::invalid_argument listing the valid names.
NetOp net_op_from_string(std::string_view name);
inline constexpr NetOp kAllNetOps[] = {NetOp::pingpong, NetOp::allreduce, NetOp::alltoall, NetOp::sendrecv_ring};

/// One operation at one size: the median (and spread) over repetitions of `iterations` back-to-back calls.
struct NetPoint {
  std::int64_t bytes = 0;
  int iterations = 0;
  int repetitions = 0;
  double median_s = 0, min_s = 0, max_s = 0;  ///< seconds per operation
};

struct NetOpCalibration {
  NetOp op = NetOp::pingpong;
  std::vector<NetPoint> points;  ///< increasing sizes
  AlphaBetaFit fit;              ///< t(n) = alpha + n beta over every point (n as defined for the op)
};

/// Streaming bandwidth at one size (OSU osu_bw style: a window of non-blocking sends, one ack).
struct BandwidthPoint {
  std::int64_t bytes = 0;
  int window = 0;           ///< messages in flight (fewer for large sizes, so they fit the buffer)
  double gbytes_per_s = 0;  ///< median over repetitions
};

struct NetworkCalibration {
  int ranks = 0;
  std::vector<std::string> hosts;   ///< host name of each rank, in rank order
  int pingpong_peer = 1;            ///< ping-pong and bandwidth ran between rank 0 and this rank
  std::string transport;            ///< OMPI_MCA_btl as set for the run ("" = Open MPI's default choice)
  std::vector<BandwidthPoint> bandwidth;
  std::vector<NetOpCalibration> operations;

  /// The calibration of `op`, or nullptr.
  const NetOpCalibration* find(NetOp op) const;
  /// Distinct hosts among the ranks.
  int host_count() const;
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's destructor can allocate; not our code
struct MachineProfile {
  nlohmann::json provenance;                 ///< as results records carry it (provenance.hpp), of rank 0
  int cores = 0;                             ///< logical CPUs of the (rank 0) host measured
  bool quick = false;                        ///< measured with --quick (short, for tests): figures are rough
  MachinePeak compute;
  std::optional<NetworkCalibration> network; ///< absent unless calibrated under MPI with 2+ ranks
};

nlohmann::json to_json(const MachineProfile& profile);
/// Validates everything: kind, profile_version (a different version is refused with both numbers),
/// every required key, types and ranges. Throws ProfileError naming the key.
MachineProfile machine_profile_from_json(const nlohmann::json& j);
/// Reads and validates a profile file; ProfileError messages start with the path.
MachineProfile load_machine_profile(const std::filesystem::path& path);

/// Where calibrate writes by default and run/project look when not told: results/machine-profile.json
/// (relative to the working directory), unless ATTNBENCH_MACHINE_PROFILE names another file.
std::filesystem::path default_machine_profile_path();

}  // namespace attnbench
