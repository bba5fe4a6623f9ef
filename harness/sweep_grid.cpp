#include "sweep_grid.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "attnbench/op.hpp"
#include "cli_kernels.hpp"
#include "cli_problem.hpp"
#include "exit_codes.hpp"
#include "sweep_axes.hpp"
#include "sweep_presets.hpp"

namespace attnbench {
namespace {

const std::vector<std::string> kMasks{"none", "causal", "padding"};
const std::vector<std::string> kScores{"scaled_dot", "additive", "multiplicative"};
const std::vector<std::string> kSwitch{"on", "off", "both"};

// The axes in crossing order, the first outermost (sweep_grid.hpp). `kernel` is not one of them: the
// kernels of a point run side by side.
const std::vector<std::string> kAxisOrder{"problem", "batch", "model-dim", "heads", "kv-heads", "head-dim",
                                          "value-dim", "seq", "seq-kv", "mask", "score", "projections",
                                          "kernel-size", "dilation", "layers", "bidirectional", "threads", "ranks"};

std::string joined(const std::vector<std::string>& words, const char* separator = ", ") {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : separator) + w;
  return text;
}

// An axis's values as text: numbers in decimal, words as the user wrote them ("both" already split).
std::vector<std::string> axis_values(const std::string& name, const std::vector<std::string>& items) {
  const std::string option = "--" + name;
  if (name == "problem") {
    std::vector<std::string> values;
    for (const std::string& item : items)
      for (const std::string& text : split_list(option, item)) values.push_back(text);
    return values;
  }
  if (name == "mask") return expand_words(option, items, kMasks);
  if (name == "score") return expand_words(option, items, kScores);
  if (name == "projections" || name == "bidirectional") {
    std::vector<std::string> values;
    for (const std::string& v : expand_words(option, items, kSwitch))
      if (v == "both") values.insert(values.end(), {"off", "on"});
      else values.push_back(v);
    return values;
  }
  if (name == "threads") return expand_numbers(option, items, 1, 4096);
  if (name == "ranks") return expand_numbers(option, items, 1, 1 << 24);
  if (name == "layers") return expand_numbers(option, items, 1, kMaxConvLayers, {"cover"});
  return expand_numbers(option, items, 1, kMaxDim);
}

// One grid point: each given axis's value (absent: the axis was not given).
using Point = std::map<std::string, std::string>;

std::string describe(const Point& point) {
  std::string text;
  for (const std::string& name : kAxisOrder)
    if (auto it = point.find(name); it != point.end() && name != "threads" && name != "ranks")
      text += (text.empty() ? "" : " ") + ("--" + name + " " + it->second);
  return text;
}

// The attention problem and the baseline fields of a point; UsageError for a broken rule.
std::pair<Problem, BaselineFields> point_problem(const Point& point) {
  auto number = [&](const char* name) -> std::optional<std::int64_t> {
    auto it = point.find(name);
    if (it == point.end()) return std::nullopt;
    return std::stoll(it->second);  // axis_values wrote it in decimal
  };
  auto is_on = [&](const char* name) { return point.count(name) && point.at(name) == "on"; };
  BaselineFields fields;
  Problem p;
  if (auto it = point.find("problem"); it != point.end()) {
    try {
      p = parse_problem(it->second);
    } catch (const ProblemError& e) {
      throw UsageError(std::string("--problem: ") + e.what());
    }
    // A problem string may carry baseline tokens (ks5, ly4, ...): they are its baselines' fields.
    fields.kernel_size = p.kernel_size, fields.dilation = p.dilation, fields.layers = p.layers;
    fields.bidirectional = p.bidirectional;
    p.kernel_size = Problem{}.kernel_size, p.dilation = Problem{}.dilation, p.layers = Problem{}.layers;
    p.bidirectional = false;
    return {p, fields};
  }
  ProblemFlags flags;
  flags.batch = number("batch"), flags.model_dim = number("model-dim"), flags.heads = number("heads");
  flags.kv_heads = number("kv-heads"), flags.head_dim = number("head-dim"), flags.value_dim = number("value-dim");
  flags.seq = number("seq"), flags.seq_kv = number("seq-kv");
  if (point.count("mask")) flags.mask = parse_mask(point.at("mask"));
  if (point.count("score")) flags.score = parse_score(point.at("score"));
  flags.projections = is_on("projections");
  fields.kernel_size = number("kernel-size").value_or(fields.kernel_size);
  fields.dilation = number("dilation").value_or(fields.dilation);
  if (point.count("layers")) {
    fields.cover = point.at("layers") == "cover";
    if (!fields.cover) fields.layers = *number("layers");
  }
  fields.bidirectional = is_on("bidirectional");
  return {problem_from(flags), fields};
}

// Config-file lines: the key of each "key = value" line ("section.key" inside [section]), checked against
// `options` here, where the line number is known (Boost's parser does not say which line is wrong).
// Returns the line numbers of each key's occurrences, in order.
std::map<std::string, std::vector<int>> check_config_keys(const std::string& label, const std::string& text,
                                                          const po::options_description& options) {
  std::map<std::string, std::vector<int>> lines;
  std::vector<std::string> names;
  for (const auto& opt : options.options()) names.push_back(opt->long_name());
  std::istringstream in(text);
  std::string line, section;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = label + ":" + std::to_string(number) + ": ";
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);  // drop a comment
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    if (line.front() == '[') {
      if (line.back() != ']') throw UsageError(where + "expected '[section]', got '" + line + "'");
      section = line.substr(1, line.size() - 2) + ".";
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string::npos)
      throw UsageError(where + "expected 'key = value' (keys are the command-line options without '--', "
                               "e.g. 'seq = 256:4096:*2'), got '" + line + "'");
    std::string key = line.substr(0, equals);
    key = section + key.substr(0, key.find_last_not_of(" \t") + 1);
    if (key == "config" || key == "preset")
      throw UsageError(where + "'" + key + "' cannot be set in a file; give --" + key + " on the command line");
    if (!options.find_nothrow(key, false)) {
      const std::string suggestion = did_you_mean(key, names);
      throw UsageError(where + "unknown key '" + key + "'" + (suggestion.empty() ? "" : "; " + suggestion) +
                       " (keys are the options of 'attnbench sweep --help', without '--')");
    }
    lines[key].push_back(number);
  }
  return lines;
}

// A sweep axis's value from a file, checked now so that the message can name the file and line.
void check_axis_value(const std::string& key, const std::vector<std::string>& value) {
  if (key == "kernel") {
    std::set<const Kernel*> named;
    resolve_kernels(value, named);
  } else if (key == "zip") {
    parse_zips(value, kAxisOrder);
  } else if (std::find(kAxisOrder.begin(), kAxisOrder.end(), key) != kAxisOrder.end()) {
    axis_values(key, value);
  }
}

// Whether a file's `key` yields to the keys a higher-precedence source gave: the same key, or an
// alternative way to say the same thing. --problem strings and the shape axes replace each other, and a
// width (--model-dim) replaces a split (--heads, --head-dim) and vice versa: `--preset bert-base
// --model-dim 1024` means 16 heads of 64, not 1024 split into the preset's 12 heads.
bool overridden(const std::string& key, const std::set<std::string>& given) {
  static const std::set<std::string> kShape{"batch", "heads", "kv-heads", "seq", "seq-kv", "head-dim", "value-dim",
                                            "model-dim", "mask", "score", "projections", "kernel-size", "dilation",
                                            "layers", "bidirectional"};
  if (given.count(key)) return true;
  if (kShape.count(key) && given.count("problem")) return true;
  if (key == "problem") return std::any_of(kShape.begin(), kShape.end(), [&](const std::string& k) { return given.count(k) > 0; });
  if (key == "heads" || key == "head-dim") return given.count("model-dim") > 0;
  if (key == "model-dim") return given.count("heads") && given.count("head-dim");
  return false;
}

// Stores the options of one file into `vm`, except those a higher-precedence source overrides
// (`given`, which then gains this file's keys).
void store_file(const std::string& label, const std::string& text, const po::options_description& options,
                po::variables_map& vm, std::set<std::string>& given) {
  const std::map<std::string, std::vector<int>> lines = check_config_keys(label, text, options);
  std::istringstream in(text);
  try {
    po::parsed_options parsed = po::parse_config_file(in, options, false);
    std::map<std::string, std::size_t> seen;
    for (const po::option& o : parsed.options) {
      const std::size_t occurrence = seen[o.string_key]++;
      try {
        check_axis_value(o.string_key, o.value);
      } catch (const UsageError& e) {
        const std::vector<int>& at = lines.at(o.string_key);
        throw UsageError(label + ":" + std::to_string(at.at(std::min(occurrence, at.size() - 1))) + ": " + e.what());
      }
    }
    std::set<std::string> keys;
    std::erase_if(parsed.options, [&](const po::option& o) {
      keys.insert(o.string_key);
      return overridden(o.string_key, given);
    });
    po::store(parsed, vm);
    given.insert(keys.begin(), keys.end());
  } catch (const po::error& e) {
    throw UsageError(label + ": " + e.what());
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config: cannot read '" + path + "'; give the path of a file of 'key = value' lines");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

po::options_description sweep_axis_options() {
  po::options_description o(
      "Sweep axes (each a list: 1,4,8; a range: 256:16384:*2 or 128:1024:+128; repeatable; crossed unless zipped)");
  auto list = [] { return po::value<std::vector<std::string>>()->composing(); };
  o.add_options()
      ("kernel", list(), "kernel ids, globs (mha.*), families (attention, cnn, rnn) or all")
      ("problem", list(), "problem strings, e.g. b1_h16_sq4096_d64_causal, instead of the shape axes")
      ("batch", list(), "batch sizes B (default 1)")
      ("heads", list(), "query heads H")
      ("kv-heads", list(), "key/value heads (default: each point's --heads); must divide heads")
      ("seq", list(), "query sequence lengths Lq")
      ("seq-kv", list(), "key/value sequence lengths Lk (default: each point's --seq)")
      ("head-dim", list(), "head dimensions d_k")
      ("value-dim", list(), "value head dimensions d_v (default: each point's --head-dim)")
      ("model-dim", list(), "model widths E = heads * head-dim, instead of either (alone: heads = E/64)")
      ("mask", list(), "none | causal | padding")
      ("score", list(), "scaled_dot | additive | multiplicative")
      ("projections", list(), "on | off | both: the full module with Q/K/V/O layers, the core alone, or each")
      ("kernel-size", list(), "conv1d taps k (cnn kernels only; default 3)")
      ("dilation", list(), "conv1d dilation of the first layer (cnn kernels only; default 1)")
      ("layers", list(), "conv1d stack depths, or 'cover': the fewest layers whose receptive field covers the "
                         "sequence (cnn kernels only; default 1)")
      ("bidirectional", list(), "on | off | both (rnn kernels only; default off)")
      ("threads", list(), "threads for openmp/tbb kernels (default: all logical CPUs, shared among the ranks "
                          "of a host under MPI)")
      ("ranks", list(), "under mpirun/srun: MPI ranks for mpi kernels, the first R of the launch (default: all); a "
                        "value above the launch's ranks is left out with a note")
      ("zip", list(), "axes that advance together instead of being crossed, e.g. seq,batch (equal lengths; "
                      "repeatable; 'none' undoes a preset's)")
      ("preset", po::value<std::string>(), ("a named sweep: " + joined(preset_names()) +
                                            " (harness/inputs/NAME.cfg)").c_str())
      ("config", po::value<std::string>(), "a file of 'option = value' lines (Boost.Program_options syntax); the "
                                           "command line overrides it, and it overrides --preset");
  return o;
}

po::variables_map parse_sweep_args(const std::vector<std::string>& args, const po::options_description& options) {
  po::variables_map vm = parse_args("sweep", args, options);
  std::set<std::string> given;
  for (const auto& [key, value] : vm)
    if (!value.defaulted()) given.insert(key);
  if (vm.count("config")) {
    const std::string path = vm["config"].as<std::string>();
    store_file(path, read_file(path), options, vm, given);
  }
  if (vm.count("preset")) {
    const std::string name = vm["preset"].as<std::string>();
    store_file("preset '" + name + "' (harness/inputs/" + name + ".cfg)", preset_text(name), options, vm, given);
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see 'attnbench sweep --help')");
  }
  return vm;
}

std::int64_t covering_layers(std::int64_t seq, std::int64_t kernel_size, std::int64_t dilation) {
  for (std::int64_t layers = 1; layers <= kMaxConvLayers; ++layers) {
    const long double field = 1 + (long double)(kernel_size - 1) * dilation * ((long double)(std::int64_t{1} << layers) - 1);
    if (field >= (long double)seq) return layers;
  }
  return 0;
}

Problem matched_problem(Op op, const Problem& attention, const BaselineFields& fields) {
  if (op == Op::mha) return attention;
  Problem m;  // attention-only fields at their defaults
  m.batch = attention.batch;
  m.seq_q = m.seq_kv = attention.seq_q;
  // The width split as --model-dim alone splits it, so every split of one width is one baseline case.
  const std::int64_t width = attention.model_dim();
  m.heads = m.kv_heads = width % 64 == 0 ? width / 64 : 1;
  m.head_dim = m.value_dim = width / m.heads;
  if (op == Op::conv1d) {
    m.mask = attention.mask == Mask::causal ? Mask::causal : Mask::none;  // causal padding
    m.kernel_size = fields.kernel_size;
    m.dilation = fields.dilation;
    m.layers = fields.layers;
    if (fields.cover) {
      m.layers = covering_layers(m.seq_q, m.kernel_size, m.dilation);
      if (m.layers == 0)
        throw UsageError("--layers cover: no stack of at most " + std::to_string(kMaxConvLayers) +
                         " layers with kernel size " + std::to_string(m.kernel_size) + " and dilation " +
                         std::to_string(m.dilation) + " covers " + std::to_string(m.seq_q) + " positions" +
                         (m.kernel_size == 1 ? " (kernel size 1 never widens the field; use --kernel-size 2 or more)" : ""));
    }
  } else {
    // An RNN is causal by construction (its causal case computes the same), or bidirectional.
    m.bidirectional = fields.bidirectional;
  }
  try {
    m.validate();
  } catch (const ProblemError& e) {
    throw UsageError(option_for_field(e.field()) + ": " + e.what());
  }
  return m;
}

SweepGrid sweep_grid_from(const po::variables_map& vm) {
  SweepGrid grid;
  if (vm.count("preset")) {
    grid.preset = vm["preset"].as<std::string>();
    grid.sources.push_back("preset:" + grid.preset);
  }
  if (vm.count("config")) grid.sources.push_back(vm["config"].as<std::string>());
  if (!vm.count("kernel"))
    throw UsageError("missing --kernel: name kernels (ids, globs such as mha.*, families, or all), or use a "
                     "--preset (" + joined(preset_names()) + ")");
  const std::vector<const Kernel*> kernels = resolve_kernels(vm, grid.named);
  auto given = [&](const char* name) { return vm.count(name) > 0; };
  if (given("problem")) refuse_shape_options_with_problem(given);

  std::vector<std::string> names;
  std::vector<std::vector<std::string>> values;
  for (const std::string& name : kAxisOrder)
    if (vm.count(name)) {
      names.push_back(name);
      values.push_back(axis_values(name, vm[name].as<std::vector<std::string>>()));
    }
  std::vector<AxisSize> sizes;
  for (std::size_t a = 0; a < names.size(); ++a) sizes.push_back({names[a], values[a].size()});
  std::vector<std::string> zippable(kAxisOrder.begin(), kAxisOrder.end());
  const auto zips = parse_zips(vm.count("zip") ? vm["zip"].as<std::vector<std::string>>() : std::vector<std::string>{},
                               zippable);
  const auto indices = grid_points(sizes, zips);

  // Points that differ only in threads and ranks are one problem: group them, in order of first appearance.
  struct Group {
    Point point;
    std::vector<std::pair<int, int>> placements;  // (threads, ranks; 0: the launch's)
  };
  std::vector<Group> groups;
  std::map<Point, std::size_t> group_of;
  grid.default_threads = !vm.count("threads");
  const int all_cpus = int(std::max(1u, std::thread::hardware_concurrency()));
  for (const auto& index : indices) {
    Point point;
    for (std::size_t a = 0; a < names.size(); ++a) point[names[a]] = values[a][index[a]];
    const int threads = point.count("threads") ? std::stoi(point.at("threads")) : all_cpus;
    const int ranks = point.count("ranks") ? std::stoi(point.at("ranks")) : 0;
    point.erase("threads");
    point.erase("ranks");
    auto [it, added] = group_of.emplace(point, groups.size());
    if (added) groups.push_back({point, {}});
    groups[it->second].placements.emplace_back(threads, ranks);
  }

  // Left-out points, counted per reason (the message), in order of first appearance.
  std::vector<std::pair<std::string, std::string>> reasons;  // (reason, first point)
  std::map<std::string, std::size_t> reason_count;
  auto exclude = [&](const std::string& reason, const Point& point) {
    if (reason_count[reason]++ == 0) reasons.emplace_back(reason, describe(point));
  };
  std::set<std::string> seen;  // problem_str|kernel|effective threads|ranks
  for (const Group& group : groups) {
    std::optional<std::pair<Problem, BaselineFields>> at;
    try {
      at = point_problem(group.point);
    } catch (const UsageError& e) {
      exclude(e.what(), group.point);
      continue;
    }
    for (const Kernel* k : kernels) {
      Problem problem;
      try {
        problem = matched_problem(k->info().op, at->first, at->second);
      } catch (const UsageError& e) {
        exclude(std::string(e.what()) + " [" + std::string(to_string(k->info().op)) + "]", group.point);
        continue;
      }
      for (const auto& [threads, axis_ranks] : group.placements) {
        // Only an mpi kernel spreads over ranks; any other runs on rank 0 alone, once.
        const int ranks = k->info().caps.parallelism == Parallelism::mpi ? axis_ranks : 0;
        const std::string key = problem.str() + "|" + k->id() + "|" + std::to_string(k->effective_threads({threads})) +
                                "|" + std::to_string(ranks);
        if (seen.insert(key).second) grid.cases.push_back({problem, k, threads, ranks});
      }
    }
  }
  for (const auto& [reason, first] : reasons)
    grid.excluded.push_back(std::to_string(reason_count[reason]) + " grid point(s) left out: " + reason +
                            " (first: " + first + ")");
  if (grid.cases.empty())
    throw UsageError("no valid case in the grid: " + (grid.excluded.empty() ? std::string("no points") : grid.excluded.front()));
  return grid;
}

void fit_to_launch(SweepGrid& grid, int launch_ranks, int ranks_on_host) {
  if (grid.default_threads)  // the host's logical CPUs shared among its ranks, as run does
    for (SweepCase& c : grid.cases) c.threads = std::max(1, c.threads / std::max(1, ranks_on_host));
  std::map<int, std::size_t> too_many;  // --ranks value -> cases left out
  std::vector<SweepCase> kept;
  for (SweepCase& c : grid.cases)
    if (c.ranks > launch_ranks) ++too_many[c.ranks];
    else kept.push_back(std::move(c));
  grid.cases = std::move(kept);
  for (const auto& [ranks, count] : too_many)
    grid.excluded.push_back(std::to_string(count) + " case(s) left out: --ranks " + std::to_string(ranks) +
                            " is more than the " + std::to_string(launch_ranks) + " rank(s) launched (start the sweep " +
                            "with mpirun -n " + std::to_string(ranks) + " or more to run them)");
  if (grid.cases.empty())
    throw UsageError("no valid case in the grid: " + grid.excluded.back());
}

std::vector<std::vector<std::size_t>> sweep_groups(const SweepGrid& grid, bool interleave) {
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::tuple<std::string, int, int>, std::size_t> group_of;  // (problem_str, threads, ranks) -> group
  for (std::size_t i = 0; i < grid.cases.size(); ++i) {
    const SweepCase& c = grid.cases[i];
    if (!interleave) {
      groups.push_back({i});
      continue;
    }
    const auto [it, added] = group_of.try_emplace({c.problem.str(), c.threads, c.ranks}, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kEmbeddedPresetCount; ++i) names.push_back(kEmbeddedPresets[i].name);
  return names;
}

std::string preset_text(const std::string& name) {
  for (std::size_t i = 0; i < kEmbeddedPresetCount; ++i)
    if (name == kEmbeddedPresets[i].name) return kEmbeddedPresets[i].text;
  const std::string suggestion = did_you_mean(name, preset_names());
  throw UsageError("unknown preset '" + name + "'" + (suggestion.empty() ? "" : "; " + suggestion) +
                   " (presets: " + joined(preset_names()) + ")");
}

}  // namespace attnbench
