#!/usr/bin/env bash
# Every script in scripts/ given hostile paths: names with spaces, quotes, $, backticks, $(...), ';', '&',
# '|', glob characters, a backslash, '%s', a newline, a leading '-' and non-ASCII. Each script must do
# its job with the path (outputs land in that exact directory, inputs are read from it, the programs it
# launches get it as one word), and run and glob nothing from it: the names carry `touch CANARY_*`
# commands that must never run, each script runs in a sandbox where nothing may appear beside the
# hostile directory, and a decoy directory that the name's glob characters match must stay empty.
# Programs that would take minutes (the build, the full benchmark, the fuzzers, mpirun for the model
# validation, srun) are stand-ins that record their exact arguments, compared here word for word; the
# sweep scripts, mpi-speedup.sh and the Python scripts run the real attnbench (and mpirun) on tiny cases.
#   bash test_hostile_paths.sh ATTNBENCH
set -euo pipefail
# shellcheck source=tests/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
allow_mpi_as_root
unset SLURM_JOB_ID SLURM_JOB_NUM_NODES SLURMD_NODENAME ATTNBENCH_HOME

# The hostile name: it starts with '-' (given as a relative path it looks like an option), and every
# command in it leaves a CANARY_* file if a shell ever runs it.
HOSTILE=$'-h sp ace \'sq\' "dq" $HOME `touch CANARY_backtick` $(touch CANARY_subst) ;touch CANARY_semi & | * ? [ab] \\ %s\nnl \xc3\xbc\xe6\x97\xa5'
# The same without white space, for the cluster scripts (Open MPI splits its agent setting on spaces).
COMPACT=$'x$(touch${IFS}CANARY_ifs);touch${IFS}CANARY_compact&|*?[ab]\'"\\\xc3\xbc'
# What HOSTILE matches when globbed: the glob characters replaced by what they match.
DECOY=${HOSTILE//\*/STAR}; DECOY=${DECOY//\?/Q}; DECOY=${DECOY//\[ab\]/a}

work=$(mktemp -d /tmp/attnbench-test-paths.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
STUB_LOG=$work/stub-calls.txt
export STUB_LOG
: > "$STUB_LOG"

# The stand-in: logs "cwd name args..." (printf %q, one line per call), then behaves just enough like
# the program it stands in for.
cat > "$work/bin/stub" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
name=${0##*/}
{ printf '%q ' "$PWD" "$name" "$@"; echo; } >> "$STUB_LOG"
value_of() {  # value_of OPTION ARGS...: the word after OPTION
  local option=$1; shift
  while [ $# -gt 1 ]; do [ "$1" = "$option" ] && { printf '%s' "$2"; return; }; shift; done
}
case $name in
  mpirun|srun)  # drop the launcher's options, run the program once
    while [ $# -gt 0 ]; do
      case $1 in -np|-n|-x|--map-by|--bind-to|--hostfile) shift 2 ;; -*) shift ;; *) break ;; esac
    done
    exec "$@" ;;
  cmake)  # -B DIR makes the build directory; `cmake --build DIR` "builds" the fuzz targets the test names
    build=$(value_of -B "$@"); [ -z "$build" ] || mkdir -p -- "$build"
    if [ "${1:-}" = --build ]; then for t in ${STUB_FUZZ_TARGETS:-}; do ln -s "$0" "$2/fuzz_$t"; done; fi ;;
  fuzz_*) echo "stat::number_of_executed_units: 7" >&2 ;;
  scontrol) printf '   Command=%s\n' "$STUB_SBATCH_COMMAND" ;;  # Slurm 22.05: the path and arguments joined by spaces
  clang++|install-deps.sh) ;;
  *)  # attnbench: a record to --out, a report directory for -o
    out=$(value_of --out "$@"); [ -z "$out" ] || echo '{"stub": true}' >> "$out"
    dir=$(value_of -o "$@"); [ -z "$dir" ] || { mkdir -p -- "$dir"; : > "$dir/report.html"; } ;;
esac
EOF
chmod 755 "$work/bin/stub"
for tool in mpirun srun cmake clang++ scontrol; do ln -s stub "$work/bin/$tool"; done
STUBS_PATH=$work/bin:$PATH

# A fresh sandbox (the scripts' working directory) holding the hostile directory and the decoy.
new_sandbox() {
  sandbox=$work/$1
  mkdir -p "$sandbox/$HOSTILE" "$sandbox/$DECOY"
  : > "$STUB_LOG"
}

# Nothing ran from a name, nothing was globbed or split: no canary anywhere, an empty decoy, and
# nothing in the sandbox beside the hostile directory, the decoy and the names given.
check_sandbox() {
  local entry canaries name known
  canaries=$(find "$work" "$SOURCE_DIR" /tmp -maxdepth 1 -name 'CANARY_*' 2>/dev/null; find "$work" -name 'CANARY_*')
  [ -z "$canaries" ] || fail "$1: a name was run as a command: $canaries"
  [ -z "$(ls -A "$sandbox/$DECOY")" ] || fail "$1: a path was globbed (the decoy got files)"
  while IFS= read -r -d '' entry; do
    entry=${entry#"$sandbox/"} known=0
    for name in "$HOSTILE" "$DECOY" "${@:2}"; do [ "$entry" != "$name" ] || known=1; done
    [ "$known" -eq 1 ] || fail "$1: '$entry' appeared beside the hostile directory (a path was split or globbed)"
  done < <(find "$sandbox" -mindepth 1 -maxdepth 1 -print0)
  echo "$TEST_NAME: $1: passed ($SECONDS s)"
}

# expect_call CWD NAME ARGS...: a stand-in was called so, word for word.
expect_call() {
  local want
  want="$(printf '%q ' "$@")"
  grep -qxF -- "$want" "$STUB_LOG" || fail "no call: $want"$'\n'"calls:"$'\n'"$(cat "$STUB_LOG")"
}

# pastes_back LINE: LINE, read as shell words, is the array `want` word for word (else both are shown).
pastes_back() {
  local -a words
  eval "words=($1)"
  [ "$(printf '%q ' "${words[@]}")" = "$(printf '%q ' "${want[@]}")" ] && return 0
  printf 'got:  %s\nwant: %s\n' "$1" "$(printf '%q ' "${want[@]}")" >&2
  return 1
}

# run_in DIR CMD...: CMD in DIR with the stand-ins first on PATH; its output goes to $work/out.txt.
run_in() {
  local dir=$1 rc=0
  shift
  (cd "$dir" && PATH=$STUBS_PATH "$@") > "$work/out.txt" 2>&1 || rc=$?
  return "$rc"
}
ok_in() { run_in "$@" || fail "exit $?: $(printf '%q ' "${@:2}")"$'\n'"$(cat "$work/out.txt")"; }
refused_in() {
  local rc=0
  run_in "$@" || rc=$?
  [ "$rc" -eq 2 ] || fail "exit $rc, expected 2 (bad input): $(printf '%q ' "${@:2}")"$'\n'"$(cat "$work/out.txt")"
}

# A copy of the scripts inside a checkout whose path is hostile, the program a stand-in.
new_checkout() {
  checkout=$sandbox/$HOSTILE/checkout
  mkdir -p "$checkout/build/release"
  cp -R "$SOURCE_DIR/scripts" "$checkout/"
  ln -s "$work/bin/stub" "$checkout/build/release/attnbench"
}

# --- bench.sh: installs, builds, sweeps the default preset into results/ of its checkout, reports.
new_sandbox bench
new_checkout
ln -sf "$work/bin/stub" "$checkout/scripts/install-deps.sh"
ok_in "$sandbox" "$checkout/scripts/bench.sh" --kernel "$HOSTILE"
expect_call "$checkout" install-deps.sh
expect_call "$checkout" cmake --preset release
results=("$checkout"/results/default-*.jsonl)
{ [ "${#results[@]}" -eq 1 ] && [ -s "${results[0]}" ]; } || fail "bench.sh: no results in $checkout/results"
stem=results/$(basename "${results[0]}" .jsonl)
expect_call "$checkout" attnbench sweep --preset default --out "$stem.jsonl" --kernel "$HOSTILE"
expect_call "$checkout" attnbench report "$stem.jsonl" -o "$stem-report"
[ -f "$checkout/$stem-report/report.html" ] || fail "bench.sh: no report in $checkout/$stem-report"
check_sandbox bench.sh

# --- fuzz.sh: builds the fuzz targets in build/fuzz of its checkout and runs each on its corpus.
new_sandbox fuzz
new_checkout
STUB_FUZZ_TARGETS=$(sed -n 's/^for target in \([a-z_ ]*\); do$/\1/p' "$checkout/scripts/fuzz.sh")
export STUB_FUZZ_TARGETS
[ -n "$STUB_FUZZ_TARGETS" ] || fail "fuzz.sh: cannot find its list of targets"
ok_in "$sandbox" "$checkout/scripts/fuzz.sh" 2
expect_call "$checkout" cmake --build build/fuzz -j"$(nproc)"
for t in $STUB_FUZZ_TARGETS; do
  expect_call "$checkout" "fuzz_$t" -max_total_time=2 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "-artifact_prefix=build/fuzz/artifacts/$t/" "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t"
  [ -d "$checkout/build/fuzz/corpus/$t" ] || fail "fuzz.sh: no corpus directory for $t in the checkout"
  grep -qxF "fuzz: $t stat::number_of_executed_units: 7" "$work/out.txt" || fail "fuzz.sh: no statistics for $t"
done
refused_in "$sandbox" "$checkout/scripts/fuzz.sh" "1;touch CANARY_seconds"
refused_in "$sandbox" "$checkout/scripts/fuzz.sh" "$HOSTILE"
check_sandbox fuzz.sh

# --- test.sh and install-deps.sh take names, not paths: hostile ones are refused before anything runs.
new_sandbox names
for bad in "$HOSTILE" "$COMPACT" "release;touch CANARY_preset" "release asan" -x "\$(touch CANARY_p2)"; do
  refused_in "$sandbox" "$SOURCE_DIR/scripts/test.sh" "$bad"
  grep -q "unknown preset" "$work/out.txt" || fail "test.sh: no message for a bad preset"
  refused_in "$sandbox" "$SOURCE_DIR/scripts/install-deps.sh" --dry-run "$bad"
  grep -q "unknown option" "$work/out.txt" || fail "install-deps.sh: no message for a bad option"
done
ok_in "$sandbox" "$SOURCE_DIR/scripts/install-deps.sh" --python --dry-run
check_sandbox "test.sh and install-deps.sh"

# --- mpirun-sweep.sh, for real (mpirun, one rank): program, problems file and run directory hostile
# and relative. The run directory gets everything, and command.txt pastes back as the same words.
new_sandbox mpirun-sweep
ln -s "$ATTNBENCH" "$sandbox/$HOSTILE/attn bench"
printf 'b1_h2_sq9_d8  # tiny\n' > "$sandbox/$HOSTILE/problems file"
printf 'localhost slots=2\n' > "$sandbox/$HOSTILE/host file"
ok_in "$sandbox" env PATH="$PATH" "$SOURCE_DIR/scripts/mpirun-sweep.sh" --attnbench "$HOSTILE/attn bench" \
  --kernels mha.blocked.serial --problems-file "$HOSTILE/problems file" --threads 1 --bind none \
  --run-dir "$HOSTILE/run" -- "${TEST_RUN_ARGS[@]}"
run_dir=$sandbox/$HOSTILE/run
for f in results.jsonl command.txt environment.txt steps.tsv summary.txt; do
  [ -s "$run_dir/$f" ] || fail "mpirun-sweep.sh: $f is not in the run directory"
done
grep -q '"status": *"ok"' "$run_dir/results.jsonl" || fail "mpirun-sweep.sh: no ok record:"$'\n'"$(cat "$run_dir/results.jsonl")"
grep -q "^Steps: 1 (1 exited 0" "$run_dir/summary.txt" || fail "mpirun-sweep.sh: summary.txt:"$'\n'"$(cat "$run_dir/summary.txt")"
want=(mpirun -np 1 -x OMP_NUM_THREADS --map-by ppr:1:node --bind-to none "$sandbox/$HOSTILE/attn bench" run
      --kernel mha.blocked.serial --problem b1_h2_sq9_d8 --threads 1 --out "$run_dir/results.jsonl" "${TEST_RUN_ARGS[@]}")
pastes_back "$(sed -n 2p "$run_dir/command.txt")" || fail "mpirun-sweep.sh: command.txt's step does not paste back"
# The hostfile is read (and given to mpirun as one word): a dry run shows it.
ok_in "$sandbox" "$SOURCE_DIR/scripts/mpirun-sweep.sh" --attnbench "$HOSTILE/attn bench" --kernels mha.blocked.serial \
  --problems "$HOSTILE" --hostfile "$HOSTILE/host file" --threads 1 --run-dir "$HOSTILE/dry" --dry-run
want=(mpirun -np 1 -x OMP_NUM_THREADS --hostfile "$sandbox/$HOSTILE/host file" --map-by ppr:1:node:PE=1 --bind-to core
      --report-bindings -x OMP_PLACES -x OMP_PROC_BIND "$sandbox/$HOSTILE/attn bench" run --kernel mha.blocked.serial
      --problem "$HOSTILE" --threads 1 --out "$sandbox/$HOSTILE/dry/results.jsonl")
pastes_back "$(cat "$work/out.txt")" || fail "mpirun-sweep.sh --dry-run: the step does not paste back"
check_sandbox mpirun-sweep.sh

# --- attnbench-sweep.sbatch inside a (stand-in) Slurm job: sbatch runs a spooled copy, and the script
# finds its checkout from the path Slurm reports (scontrol: the path and the arguments joined by
# spaces, so a checkout path with spaces must still be found). Slurm prints a newline as is, so that
# path has none; the run directory and the program keep the whole hostile name.
new_sandbox sbatch
checkout=$sandbox/${HOSTILE//$'\n'/ }/checkout
mkdir -p "$checkout" "$sandbox/spool"
cp -R "$SOURCE_DIR/scripts" "$checkout/"
cp "$checkout/scripts/slurm/attnbench-sweep.sbatch" "$sandbox/spool/slurm_script"
ln -s "$ATTNBENCH" "$sandbox/$HOSTILE/attn bench"
export STUB_SBATCH_COMMAND="$checkout/scripts/slurm/attnbench-sweep.sbatch --kernels mha.blocked.serial --run-dir x"
ok_in "$sandbox" env SLURM_JOB_ID=4242 SLURM_JOB_NUM_NODES=1 SLURM_JOB_CPUS_PER_NODE="$(nproc)" SLURM_NTASKS_PER_NODE=1 \
  SLURM_CPUS_PER_TASK=1 "$sandbox/spool/slurm_script" --attnbench "$HOSTILE/attn bench" --kernels mha.blocked.serial \
  --problems b1_h2_sq9_d8 --run-dir "$HOSTILE/run" -- "${TEST_RUN_ARGS[@]}"
run_dir=$sandbox/$HOSTILE/run
grep -q '"status": *"ok"' "$run_dir/results.jsonl" || fail "attnbench-sweep.sbatch: no ok record in the run directory"
for f in command.txt environment.txt steps.tsv summary.txt; do
  [ -s "$run_dir/$f" ] || fail "attnbench-sweep.sbatch: $f is not in the run directory"
done
expect_call "$sandbox" srun --mpi=pmix --nodes=1 --ntasks=1 --ntasks-per-node=1 --cpus-per-task=1 --cpu-bind=verbose,cores \
  --kill-on-bad-exit=1 "$sandbox/$HOSTILE/attn bench" run --kernel mha.blocked.serial --problem b1_h2_sq9_d8 \
  --threads 1 --out "$run_dir/results.jsonl" "${TEST_RUN_ARGS[@]}"
check_sandbox attnbench-sweep.sbatch spool "${HOSTILE//$'\n'/ }"

# --- validate-model.sh: the program (ATTNBENCH), the run directory (OUT) and the problems hostile;
# the program and mpirun are stand-ins (calibration and the runs take minutes).
new_sandbox validate-model
ln -s "$work/bin/stub" "$sandbox/$HOSTILE/attn bench"
ok_in "$sandbox" env ATTNBENCH="$HOSTILE/attn bench" OUT="$HOSTILE/out" RANKS=2 \
  "$SOURCE_DIR/scripts/validate-model.sh" "$HOSTILE"
exe=$sandbox/$HOSTILE/attn\ bench out=$sandbox/$HOSTILE/out
expect_call "$sandbox" mpirun -np 2 --bind-to none "$exe" calibrate --threads 1 --out "$out/profile.json"
expect_call "$sandbox" "attn bench" calibrate --threads 1 --out "$out/profile.json"
expect_call "$sandbox" "attn bench" run --kernel mha.blocked.serial,mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi \
  --problem "$HOSTILE" --threads 1 --out "$out/records.jsonl"
expect_call "$sandbox" mpirun -np 2 --oversubscribe --bind-to none "$exe" run --kernel mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi \
  --problem "$HOSTILE" --threads 1 --out "$out/records.jsonl"
expect_call "$sandbox" "attn bench" project --validate "$out/records.jsonl" --machine "$out/profile.json" \
  --network calibrated --out "$out/validation.jsonl"
for f in load.txt profile.json records.jsonl validation.jsonl; do
  [ -s "$out/$f" ] || fail "validate-model.sh: $f is not in OUT"
done
check_sandbox validate-model.sh

# --- mpi-speedup.sh, for real (mpirun, one rank, one round, a tiny problem) when the MPI kernels are built.
if "$ATTNBENCH" list --json | grep -q '"mha.tp.mpi"'; then
  new_sandbox mpi-speedup
  ln -s "$ATTNBENCH" "$sandbox/$HOSTILE/attn bench"
  ok_in "$sandbox" env PATH="$PATH" ROUNDS=1 RANKS=1 PROBLEMS=b1_h2_sq9_d8 \
    "$SOURCE_DIR/scripts/mpi-speedup.sh" "$HOSTILE/attn bench" "$HOSTILE/out"
  grep -q "^b1_h2_sq9_skv9_d8 .*mha.tp.mpi" "$work/out.txt" || fail "mpi-speedup.sh: no speed-up line:"$'\n'"$(cat "$work/out.txt")"
  for f in round-0.jsonl round-0.txt load-before.txt load-after.txt; do
    [ -s "$sandbox/$HOSTILE/out/$f" ] || fail "mpi-speedup.sh: $f is not in OUT_DIR"
  done
  # ROUNDS and RANKS reach shell arithmetic, which runs the $(...) in an array subscript.
  refused_in "$sandbox" env ROUNDS="x[\$(touch CANARY_rounds)]" "$SOURCE_DIR/scripts/mpi-speedup.sh" "$ATTNBENCH" "$HOSTILE/o2"
  refused_in "$sandbox" env RANKS="x[\$(touch CANARY_ranks)]" "$SOURCE_DIR/scripts/mpi-speedup.sh" "$ATTNBENCH" "$HOSTILE/o3"
  check_sandbox mpi-speedup.sh
else
  echo "$TEST_NAME: mpi-speedup.sh not run: this attnbench has no MPI kernels"
fi

# --- regression-check.sh: tests/test_compare_regression_script.cpp gives it hostile paths.

# --- The cluster scripts: local-slurm.sh refuses what slurm.conf cannot hold; netns-hosts.sh takes
# any directory without white space, and its mpi.env sources back to the same path.
new_sandbox cluster
for dir in "$HOSTILE" "$COMPACT"; do
  refused_in "$sandbox" "$SOURCE_DIR/scripts/cluster/local-slurm.sh" up "$dir/cluster"
  grep -q "Slurm's configuration cannot hold" "$work/out.txt" || fail "local-slurm.sh: no reason given:"$'\n'"$(cat "$work/out.txt")"
done
refused_in "$sandbox" "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" up "$HOSTILE/net"
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  net=$sandbox/$COMPACT
  mkdir "$net"
  ok_in "$sandbox" "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" up "$COMPACT/net"
  run_in "$sandbox" "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" run "$COMPACT/net" -- printenv OMPI_MCA_plm_rsh_agent ||
    fail "netns-hosts.sh run:"$'\n'"$(cat "$work/out.txt")"
  agent=$(cat "$work/out.txt")
  ok_in "$sandbox" "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" down "$COMPACT/net"
  [ "$agent" = "$net/net/rsh-agent" ] || fail "netns-hosts.sh: mpi.env names '$agent', not '$net/net/rsh-agent'"
  check_sandbox netns-hosts.sh "$COMPACT"
else
  check_sandbox "local-slurm.sh and netns-hosts.sh"
  echo "$TEST_NAME: netns-hosts.sh up not run: needs root and network namespaces"
fi

# --- The Python scripts: their path arguments (a leading '-' needs --out=PATH or -- before a
# positional path, as for any argparse program). torch_check.py reads the saved case through
# attnbench_torch.py, as `pytorch_reference.py validate` does.
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  new_sandbox python
  ln -s "$ATTNBENCH" "$sandbox/$HOSTILE/attn bench"
  saved=$HOSTILE/saved
  ok_in "$sandbox" "$HOSTILE/attn bench" run --kernel mha.naive.serial --problem b1_h2_sq9_d8 --save-output "$saved" \
    --min-time 0 --min-reps 1 --warmup 0
  ok_in "$sandbox" /usr/bin/python3 "$SOURCE_DIR/scripts/torch_check.py" --problem b1_h2_sq9_d8 -- "$saved"
  grep -q PASS "$work/out.txt" || fail "torch_check.py: $(cat "$work/out.txt")"
  ok_in "$sandbox" /usr/bin/python3 "$SOURCE_DIR/scripts/pytorch_reference.py" run --problem b1_h2_sq9_d8 \
    --kernel torch.naive --inputs="$saved" --out="$HOSTILE/torch.jsonl" --min-time 0 --min-reps 2 --warmup 0 --max-time 1
  grep -q '"status": *"ok"' "$sandbox/$HOSTILE/torch.jsonl" || fail "pytorch_reference.py: no ok record in --out"
  ok_in "$sandbox" /usr/bin/python3 "$SOURCE_DIR/scripts/baselines_vs_torch.py" --attnbench="$HOSTILE/attn bench" \
    --out="$HOSTILE/baselines.jsonl" --problems b1_h2_sq9_d8 --kernels cnn.conv1d --threads 1 --rounds 1 --min-time 0
  [ "$(grep -c '"status": *"ok"' "$sandbox/$HOSTILE/baselines.jsonl")" -eq 2 ] ||
    fail "baselines_vs_torch.py: expected 2 ok records in --out"
  check_sandbox "the Python scripts"
else
  echo "$TEST_NAME: the Python scripts not run: /usr/bin/python3 cannot import torch and numpy"
fi
echo "$TEST_NAME: passed in $SECONDS s"
