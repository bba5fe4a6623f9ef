#!/usr/bin/env bash
# The CI performance gate: builds two revisions, runs the same benchmark on both interleaved on this
# machine, and compares them with `attnbench compare`, exiting with its status: 0 no regression, 1 a case
# is significantly slower beyond the threshold or failed its correctness check, 2 bad input (including
# a revision that does not build or a benchmark that refuses its options).
#
#   scripts/regression-check.sh BASE_REV NEW_REV [options] [-- ATTNBENCH_COMMAND ARGS...]
#
# BASE_REV and NEW_REV are anything `git rev-parse` accepts (origin/main, HEAD, a tag, a commit). Each is
# checked out with `git worktree` into a temporary directory (your checkout is not touched, uncommitted
# changes are not included) and built with the release preset; the same commit twice is built once (an
# A/A run, which shows the noise floor).
#
# The benchmark is `attnbench sweep --preset NAME` (default quick), or whatever follows `--`, e.g.
#   -- run --kernel 'mha.blocked.*' --problem b1_h8_sq512_d64 --check
# The script adds `--out FILE`. It runs ROUNDS times per side, alternating base/new in ABBA order
# (base new, new base, base new, ...) into two files, so that slow drift of the machine (thermal, other
# jobs) falls on both sides alike; `attnbench compare` pools each side's rounds.
#
# Options:
#   --preset NAME        the sweep preset (default quick; ignored after --)
#   --rounds N           rounds per side (default 3)
#   --threshold PCT      passed to compare (default 5%)
#   --alpha A            passed to compare (default 0.05)
#   --filter GLOBS       passed to compare (repeatable)
#   --by-record          passed to compare: test one value per round (each round's median) instead of
#                        every repetition; the honest choice on a busy machine, with --rounds 4 or more
#   --out-dir DIR        where the results, logs and reports go (default results/regression-<time>);
#                        it holds base.jsonl, new.jsonl, compare.txt, compare.md (for a CI comment),
#                        compare.json, and logs/
#   --base-exe PATH      use this attnbench for the base side instead of building BASE_REV
#   --new-exe PATH       the same for the new side (with both, the revisions may be omitted)
#   --jobs N             build parallelism (default: nproc)
#   --keep               keep the temporary worktrees and builds (their path is printed)
#
# Example (a pull request against main):
#   scripts/regression-check.sh origin/main HEAD --preset quick --rounds 5 --out-dir perf
set -euo pipefail

die() { echo "regression-check.sh: $*" >&2; exit 2; }

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
preset=quick rounds=3 out_dir="" base_exe="" new_exe="" jobs=$(nproc) keep=0
compare_opts=() bench=() revs=()
while (($#)); do
  case $1 in
    --preset) preset=${2:?--preset needs a name}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --threshold | --alpha | --filter) compare_opts+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --by-record) compare_opts+=("$1"); shift ;;
    --out-dir) out_dir=${2:?--out-dir needs a directory}; shift 2 ;;
    --base-exe) base_exe=${2:?--base-exe needs a path}; shift 2 ;;
    --new-exe) new_exe=${2:?--new-exe needs a path}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; bench=("$@"); break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) revs+=("$1"); shift ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: expected a positive whole number, got '$rounds'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs: expected a positive whole number, got '$jobs'"
((${#bench[@]})) || bench=(sweep --preset "$preset")
if [[ -n $base_exe && -n $new_exe ]]; then
  ((${#revs[@]} <= 2)) || die "expected at most BASE_REV NEW_REV, got ${#revs[@]} revisions"
else
  ((${#revs[@]} == 2)) || die "expected BASE_REV and NEW_REV (see --help)"
fi

out_dir=${out_dir:-results/regression-$(date -u +%Y%m%dT%H%M%SZ)}
# Absolute: the runs write there from elsewhere, and mkdir would read a relative path that starts with
# '-' as an option.
[[ $out_dir == /* ]] || out_dir=$PWD/$out_dir
mkdir -p "$out_dir/logs" || die "cannot create --out-dir '$out_dir'"
for side in base new; do
  [[ -e "$out_dir/$side.jsonl" ]] && die "'$out_dir/$side.jsonl' already exists; give a fresh --out-dir (results are never overwritten)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/attnbench-regression.XXXXXX")
worktrees=()
# shellcheck disable=SC2317  # reachable: it is the EXIT trap (shellcheck 0.9 does not follow traps)
cleanup() {
  if ((keep)); then
    echo "regression-check.sh: kept the builds in '$work'" >&2
    return
  fi
  for wt in "${worktrees[@]}"; do git -C "$repo" worktree remove --force "$wt" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Both revisions are resolved to commits before anything is built, so a branch that moves meanwhile
# (someone pushes to main) cannot make the two sides differ from what was asked.
resolve() {
  git -C "$repo" rev-parse --verify --quiet "$2^{commit}" || die "$1 revision '$2' is not a commit in $repo"
}
base_sha="" new_sha=""
[[ -z $base_exe ]] && base_sha=$(resolve base "${revs[0]}")
[[ -z $new_exe ]] && new_sha=$(resolve new "${revs[1]}")

# build SIDE REV SHA: checks SHA out into a worktree and builds its attnbench into $built_exe.
build() {
  local side=$1 rev=$2 sha=$3 wt log
  wt="$work/$side-${sha:0:12}"
  log="$out_dir/logs/build-$side.log"
  echo "building $side $rev (${sha:0:12}) in $wt (log: $log)" >&2
  git -C "$repo" worktree add --detach "$wt" "$sha" >"$log" 2>&1 || die "git worktree add failed for '$rev' (see $log)"
  worktrees+=("$wt")
  (cd "$wt" && cmake --preset release && cmake --build --preset release -j "$jobs" --target attnbench) >>"$log" 2>&1 ||
    die "$side revision '$rev' does not build (see $log)"
  built_exe="$wt/build/release/attnbench"
}

if [[ -z $base_exe ]]; then
  build base "${revs[0]}" "$base_sha"
  base_exe=$built_exe
fi
if [[ -z $new_exe ]]; then
  if [[ $new_sha == "$base_sha" ]]; then
    echo "base and new are the same commit (${new_sha:0:12}): one build serves both (an A/A run)" >&2
    new_exe=$base_exe
  else
    build new "${revs[1]}" "$new_sha"
    new_exe=$built_exe
  fi
fi
for exe in "$base_exe" "$new_exe"; do [[ -x $exe ]] || die "no attnbench program at '$exe'"; done

# run SIDE ROUND: one benchmark run of SIDE appending to SIDE.jsonl. A run that exits 1 (a check failed)
# has recorded that and goes on; anything else is bad input or a crash, and stops the check.
run() {
  local side=$1 round=$2 exe status=0
  [[ $side == base ]] && exe=$base_exe || exe=$new_exe
  local log="$out_dir/logs/$side-round$round.log"
  "$exe" "${bench[@]}" --out "$out_dir/$side.jsonl" >"$log" 2>&1 || status=$?
  ((status <= 1)) || die "$side round $round: '$exe ${bench[*]}' exited $status (see $log)"
  echo "round $round/$rounds $side done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
}

cut -d' ' -f1-3 /proc/loadavg >"$out_dir/load-before.txt"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then run base "$r"; run new "$r"; else run new "$r"; run base "$r"; fi
done
cut -d' ' -f1-3 /proc/loadavg >"$out_dir/load-after.txt"

# The new build's compare (the base may predate it). Its status is the check's.
"$new_exe" compare "$out_dir/base.jsonl" "$out_dir/new.jsonl" ${compare_opts[@]+"${compare_opts[@]}"} --format md \
  >"$out_dir/compare.md" 2>/dev/null || true
"$new_exe" compare "$out_dir/base.jsonl" "$out_dir/new.jsonl" ${compare_opts[@]+"${compare_opts[@]}"} --format json \
  >"$out_dir/compare.json" 2>/dev/null || true
status=0
"$new_exe" compare "$out_dir/base.jsonl" "$out_dir/new.jsonl" ${compare_opts[@]+"${compare_opts[@]}"} | tee "$out_dir/compare.txt" ||
  status=${PIPESTATUS[0]}
echo "load before: $(cat "$out_dir/load-before.txt")   after: $(cat "$out_dir/load-after.txt")"
echo "results, logs and compare.md: $out_dir"
exit "$status"
