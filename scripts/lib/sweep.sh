# shellcheck shell=bash
# Shell functions shared by the sweep job scripts (scripts/slurm/attnbench-sweep.sbatch and
# scripts/mpirun-sweep.sh): option parsing and validation, the run directory, the sweep loop and the
# summary. Each script sets AB_PROG, defines `ab_launcher NODES RANKS_PER_NODE THREADS` (which fills
# the array AB_LAUNCH with the launcher's command line for one step) and `ab_script_option` (its own
# options), then calls ab_parse_options "$@", ab_validate_common, ab_prepare_run_dir and ab_sweep.
#
# A step is one launch of `attnbench run` for one (nodes, ranks per node, threads, problem) point with
# every kernel, so a crash costs one problem, never the whole sweep; results from all steps append to
# one results.jsonl (append-only, each record fsync'ed by attnbench).

AB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AB_HOME=$(cd "$AB_LIB_DIR/../.." && pwd)

# Bad input: message on stderr, exit 2 (the project's convention).
ab_die() { echo "$AB_PROG: error: $*" >&2; exit 2; }

# Makes the path in the named variable absolute: the steps run it or write to it from anywhere, and a
# relative path that starts with '-' would read as an option to every program it is handed to.
ab_absolute() {
  local -n path=$1
  [[ $path == /* ]] || path=$PWD/$path
}

# The words as one shell command line that pastes back as they were (quoting only where needed).
ab_shell_words() {
  local word line=""
  for word in "$@"; do
    if [[ "$word" =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then line+="$word "; else line+="$(printf '%q' "$word") "; fi
  done
  echo "${line% }"
}

# Splits comma-separated values into the named array, appending; empty items are an error. (Not
# `read -a`: it would stop at a newline in the value and drop the rest without a word.)
ab_split_into() {
  local -n into=$1
  local option=$2 value=$3 rest=$3, item
  [ -n "$value" ] || ab_die "$option needs a value"
  while [ -n "$rest" ]; do
    item=${rest%%,*} rest=${rest#*,}
    [ -n "$item" ] || ab_die "$option '$value' has an empty item"
    into+=("$item")
  done
}

ab_require_positive_ints() {
  local option=$1 v
  shift
  for v in "$@"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || ab_die "$option: '$v' is not a positive whole number"
  done
}

# The options both scripts share. The script's own options go to ab_script_option NAME VALUE ARGS_LEFT,
# which returns 0 and sets AB_SHIFT (the words it took) when it knows the option, 1 when it does not.
AB_NODES=() AB_RANKS_PER_NODE=() AB_THREADS=() AB_KERNELS=() AB_PROBLEMS=() AB_RUN_ARGS=()
AB_LAUNCHER_ARGS=() AB_RUN_DIR="" AB_ATTNBENCH="" AB_DRY_RUN=0 AB_INVOCATION=""
ab_parse_options() {
  AB_INVOCATION=$(ab_shell_words "$AB_PROG" "$@")
  while [ $# -gt 0 ]; do
    local opt=$1 value=${2-}
    case "$opt" in
      --) shift; AB_RUN_ARGS=("$@"); break ;;
      -h|--help) ab_usage; exit 0 ;;
      --dry-run) AB_DRY_RUN=1; shift; continue ;;
    esac
    if [[ "$opt" == --*=* ]]; then value=${opt#*=}; opt=${opt%%=*}; set -- "$opt" "$value" "${@:2}"; fi
    case "$opt" in
      --nodes|--ranks-per-node|--threads|--kernels|--problems|--problems-file|--run-dir|--attnbench|--launcher-arg)
        { [ $# -ge 2 ] && [ -n "$value" ]; } || ab_die "$opt needs a value (see --help)" ;;
    esac
    case "$opt" in
      --nodes) ab_split_into AB_NODES "$opt" "$value" ;;
      --ranks-per-node) ab_split_into AB_RANKS_PER_NODE "$opt" "$value" ;;
      --threads) ab_split_into AB_THREADS "$opt" "$value" ;;
      --kernels) ab_split_into AB_KERNELS "$opt" "$value" ;;
      --problems) ab_split_into AB_PROBLEMS "$opt" "$value" ;;
      --problems-file) ab_read_problems_file "$value" ;;
      --run-dir) AB_RUN_DIR=$value ;;
      --attnbench) AB_ATTNBENCH=$value ;;
      --launcher-arg) AB_LAUNCHER_ARGS+=("$value") ;;
      *)
        AB_SHIFT=0
        ab_script_option "$opt" "$value" "$#" || ab_die "unknown option '$opt' (see --help)"
        shift "$AB_SHIFT"; continue ;;
    esac
    shift 2
  done
}

# One problem string per line; blank lines and '#' comments are ignored.
ab_read_problems_file() {
  local file=$1 line
  [ -r "$file" ] || ab_die "--problems-file: cannot read '$file'"
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=$(echo "$line" | tr -d '[:space:]')
    [ -n "$line" ] && AB_PROBLEMS+=("$line")
  done < "$file"
  return 0
}

# Checks what both scripts need; call after the script has filled in its defaults.
ab_validate_common() {
  [ "${#AB_KERNELS[@]}" -gt 0 ] || ab_die "no kernels: give --kernels (ids or globs, e.g. 'mha.*.mpi,mha.blocked.omp')"
  [ "${#AB_PROBLEMS[@]}" -gt 0 ] || ab_die "no problems: give --problems or --problems-file"
  ab_require_positive_ints --nodes "${AB_NODES[@]}"
  ab_require_positive_ints --ranks-per-node "${AB_RANKS_PER_NODE[@]}"
  ab_require_positive_ints --threads "${AB_THREADS[@]}"
  local arg
  for arg in "${AB_RUN_ARGS[@]}"; do
    case "$arg" in
      --out|--out=*) ab_die "'attnbench run $arg': results go to the run directory; give --run-dir instead" ;;
      --threads|--threads=*) ab_die "'attnbench run $arg': give --threads to $AB_PROG (it also sets the binding)" ;;
      --kernel|--kernel=*|--problem|--problem=*) ab_die "'attnbench run $arg': give --kernels/--problems to $AB_PROG" ;;
    esac
  done
  [ -n "$AB_ATTNBENCH" ] || AB_ATTNBENCH="$AB_HOME/build/release/attnbench"
  [ -x "$AB_ATTNBENCH" ] || ab_die "attnbench not found at '$AB_ATTNBENCH': build it (cmake --preset release && cmake --build --preset release) or give --attnbench PATH"
  ab_absolute AB_ATTNBENCH
  ab_check_kernels
}

# Every --kernels item must name something registered, so a typo fails now, not in every step after
# a wait in the queue. (Problem strings are checked by attnbench when each step starts.)
ab_check_kernels() {
  local listing pattern id ok
  listing=$("$AB_ATTNBENCH" list --json) || ab_die "'$AB_ATTNBENCH list --json' failed; is the build complete?"
  local -a ids families
  mapfile -t ids < <(grep -o '"id": *"[^"]*"' <<< "$listing" | cut -d'"' -f4)
  mapfile -t families < <(grep -o '"family": *"[^"]*"' <<< "$listing" | cut -d'"' -f4)
  for pattern in "${AB_KERNELS[@]}"; do
    ok=0
    [ "$pattern" = all ] && ok=1
    for id in "${ids[@]}" "${families[@]}"; do
      # shellcheck disable=SC2053  # the right side is a glob on purpose, as attnbench reads it
      [[ "$id" == $pattern ]] && ok=1
    done
    [ "$ok" -eq 1 ] || ab_die "--kernels: '$pattern' matches no registered kernel; 'attnbench list' shows them"
  done
}

# A new directory for this run; an existing non-empty one is refused so runs never mix or overwrite.
ab_prepare_run_dir() {
  local default_name=$1
  [ -n "$AB_RUN_DIR" ] || AB_RUN_DIR="results/$default_name"
  ab_absolute AB_RUN_DIR
  if [ -e "$AB_RUN_DIR" ] && [ -n "$(ls -A "$AB_RUN_DIR" 2>/dev/null)" ]; then
    ab_die "run directory '$AB_RUN_DIR' already holds files; give a new --run-dir (runs are never mixed)"
  fi
  [ "$AB_DRY_RUN" -eq 1 ] && return 0
  mkdir -p "$AB_RUN_DIR/steps" || ab_die "cannot create run directory '$AB_RUN_DIR'"
}

# The environment of the run, for whoever reads the results later.
ab_write_environment() {
  {
    echo "# $AB_PROG run, $(date -u +%Y-%m-%dT%H:%M:%SZ), on $(hostname)"
    echo "attnbench: $AB_ATTNBENCH ($("$AB_ATTNBENCH" --version 2>&1 | head -1))"
    echo "launcher: $(ab_launcher_version)"
    echo
    echo "# module list"
    if type module >/dev/null 2>&1; then module list 2>&1; else echo "(no environment modules)"; fi
    echo
    echo "# environment (SLURM_*, OMP_*, OMPI_*, PMIX_*, and other variables that change a run)"
    env | grep -E '^(SLURM|SLURMD|OMP|GOMP|KMP|OMPI|PMIX|PRTE|OPENBLAS|MKL|DNNL|ONEDNN|TBB|ATTNBENCH|LD_LIBRARY_PATH|ASAN|UBSAN)[A-Z_]*=' | LC_ALL=C sort
  } > "$AB_RUN_DIR/environment.txt"
}

# Runs every (nodes, ranks per node, threads, problem) step; returns 1 if any step failed.
ab_sweep() {
  local kernels n r t p step=0 failed=0 rc name
  kernels=$(IFS=,; echo "${AB_KERNELS[*]}")
  if [ "$AB_DRY_RUN" -eq 0 ]; then
    # Killed (scancel, the time limit): the records are safe already; say how far the sweep got.
    trap 'echo "$AB_PROG: interrupted during step $step" >&2; ab_summarize; exit 143' TERM INT
    ab_write_environment
    echo "$AB_INVOCATION" > "$AB_RUN_DIR/command.txt"
    printf 'step\tnodes\tranks_per_node\tthreads\tproblem\texit\tseconds\n' > "$AB_RUN_DIR/steps.tsv"
  fi
  for n in "${AB_NODES[@]}"; do for r in "${AB_RANKS_PER_NODE[@]}"; do for t in "${AB_THREADS[@]}"; do
    for p in "${AB_PROBLEMS[@]}"; do
      step=$((step + 1))
      ab_launcher "$n" "$r" "$t"
      local -a cmd=("${AB_LAUNCH[@]}" "$AB_ATTNBENCH" run --kernel "$kernels" --problem "$p" --threads "$t"
                    --out "$AB_RUN_DIR/results.jsonl" "${AB_RUN_ARGS[@]}")
      if [ "$AB_DRY_RUN" -eq 1 ]; then
        ab_shell_words "${cmd[@]}"
        continue
      fi
      name=$(printf '%03d-n%s-r%s-t%s-%s' "$step" "$n" "$r" "$t" "${p//[^A-Za-z0-9_.-]/_}")
      ab_shell_words "${cmd[@]}" >> "$AB_RUN_DIR/command.txt"
      echo "$AB_PROG: step $step: $n node(s) x $r rank(s) x $t thread(s), $p"
      local start=$EPOCHREALTIME
      rc=0
      OMP_NUM_THREADS=$t "${cmd[@]}" > "$AB_RUN_DIR/steps/$name.out" 2> "$AB_RUN_DIR/steps/$name.err" || rc=$?
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$n" "$r" "$t" "$p" "$rc" \
        "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" >> "$AB_RUN_DIR/steps.tsv"
      if [ "$rc" -ne 0 ]; then
        failed=1
        echo "$AB_PROG: step $step exited $rc; see $AB_RUN_DIR/steps/$name.err" >&2
      fi
    done
  done; done; done
  [ "$AB_DRY_RUN" -eq 1 ] && return 0
  ab_summarize
  return "$failed"
}

ab_summarize() {
  if command -v python3 >/dev/null 2>&1; then
    python3 "$AB_LIB_DIR/summarize_run.py" "$AB_RUN_DIR" > "$AB_RUN_DIR/summary.txt" 2>&1 ||
      echo "$AB_PROG: could not summarise (see $AB_RUN_DIR/summary.txt)" >&2
  else
    echo "python3 not found: no summary; the records are in results.jsonl" > "$AB_RUN_DIR/summary.txt"
  fi
  cat "$AB_RUN_DIR/summary.txt"
}
