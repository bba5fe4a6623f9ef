#pragma once
// The sub-commands; each takes the words after its name and returns the exit status, throwing
// UsageError for bad input.
#include <string>
#include <vector>

namespace attnbench {

class MpiSession;

int cmd_list(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args, const MpiSession& mpi);
int cmd_calibrate(const std::vector<std::string>& args, const MpiSession& mpi);
int cmd_project(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args, const MpiSession& mpi);
int cmd_profile(const std::vector<std::string>& args, const MpiSession& mpi);
// In reports/ (the attnbench_reports library): they read results files, they measure nothing.
int cmd_report(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);

}  // namespace attnbench
