// The kernel registry: one explicit list, filled by a plain function (no self-registering statics,
// which a static library's linker may drop).
#include "attnbench/registry.hpp"

#include <algorithm>

#include "attnbench/edit_distance.hpp"

namespace attnbench {

// Each kernel lives in its own file under kernels/<family>/ and exposes one accessor.
namespace kernels {
const Kernel& mha_naive_serial();
const Kernel& mha_naive_omp();
const Kernel& mha_blocked_serial();
const Kernel& mha_blocked_omp();
const Kernel& mha_blocked_tbb();
const Kernel& mha_onednn_serial();
const Kernel& mha_onednn_omp();
const Kernel& cnn_conv1d_serial();
const Kernel& cnn_conv1d_omp();
const Kernel& rnn_lstm_serial();
const Kernel& rnn_lstm_omp();
const Kernel& rnn_gru_serial();
const Kernel& rnn_gru_omp();
const Kernel& rnn_elman_serial();
const Kernel& mha_tp_mpi();
const Kernel& mha_ring_mpi();
const Kernel& mha_ulysses_mpi();
}  // namespace kernels

namespace {

std::vector<const Kernel*> make_registry() {
  return {
      &kernels::mha_naive_serial(),
      &kernels::mha_naive_omp(),
      &kernels::mha_blocked_serial(),
      &kernels::mha_blocked_omp(),
      &kernels::mha_blocked_tbb(),
      &kernels::mha_onednn_serial(),
      &kernels::mha_onednn_omp(),
      &kernels::cnn_conv1d_serial(),
      &kernels::cnn_conv1d_omp(),
      &kernels::rnn_lstm_serial(),
      &kernels::rnn_lstm_omp(),
      &kernels::rnn_gru_serial(),
      &kernels::rnn_gru_omp(),
      &kernels::rnn_elman_serial(),
      &kernels::mha_tp_mpi(),
      &kernels::mha_ring_mpi(),
      &kernels::mha_ulysses_mpi(),
  };
}

// Shell-style glob with '*' and '?'.
bool glob_match(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '*')
    return glob_match(pattern.substr(1), text) || (!text.empty() && glob_match(pattern, text.substr(1)));
  return !text.empty() && (pattern[0] == '?' || pattern[0] == text[0]) &&
         glob_match(pattern.substr(1), text.substr(1));
}

}  // namespace

const std::vector<const Kernel*>& registry() {
  static const std::vector<const Kernel*> kernels = make_registry();
  return kernels;
}

const Kernel* find_kernel(std::string_view id) {
  for (const Kernel* k : registry())
    if (k->id() == id) return k;
  return nullptr;
}

std::vector<std::string> closest_kernel_ids(std::string_view id, std::size_t count) {
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const Kernel* k : registry()) ranked.emplace_back(edit_distance(id, k->id()), k->id());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < ranked.size() && i < count; ++i) ids.push_back(ranked[i].second);
  return ids;
}

std::vector<const Kernel*> select_kernels(std::string_view pattern) {
  std::vector<const Kernel*> chosen;
  for (const Kernel* k : registry())
    if (pattern == "all" || pattern == to_string(k->info().family) || glob_match(pattern, k->id()))
      chosen.push_back(k);
  return chosen;
}

}  // namespace attnbench
