#pragma once
// The descriptor as the "problem" object of a results record (DESIGN.md) and back.
#include <nlohmann/json.hpp>

#include "attnbench/problem.hpp"

namespace attnbench {

nlohmann::json problem_to_json(const Problem& p);
/// Throws ProblemError naming the missing or bad field.
Problem problem_from_json(const nlohmann::json& j);

}  // namespace attnbench
