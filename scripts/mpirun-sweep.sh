#!/usr/bin/env bash
# A sweep of attnbench under Open MPI's mpirun: one launch per (nodes, ranks per node, threads per
# rank, problem), every kernel in each, all results and logs in one run directory. The same sweep as
# scripts/slurm/attnbench-sweep.sbatch, for machines without Slurm, a hostfile, or mpirun inside an
# allocation (mpirun then takes the allocation's nodes).
#
#   scripts/mpirun-sweep.sh --hostfile hosts --nodes 1,2 --ranks-per-node 1 --threads 8 \
#       --kernels 'mha.*.mpi' --problems b1_h16_sq4096_d64 -- --check
#
# Options (lists are comma-separated; the sweep runs every combination of nodes x ranks x threads x problems):
#   --kernels GLOBS        kernel ids, globs or families, as `attnbench run --kernel` reads them (required)
#   --problems LIST        problem strings, e.g. b1_h16_sq4096_d64 (repeatable), and/or
#   --problems-file FILE   one problem string per line ('#' starts a comment)
#   --hostfile FILE        Open MPI hostfile naming the hosts (default: the Slurm allocation, else this host)
#   --nodes LIST           hosts per step (default: every host)
#   --ranks-per-node LIST  MPI ranks per host (default 1)
#   --threads LIST         threads per rank (default: this host's logical CPUs / ranks per node)
#   --bind core|none       core (default): each rank bound to THREADS cores of its own (--map-by
#                          ppr:R:node:PE=THREADS --bind-to core, reported in the step's .err);
#                          none: no binding (hosts that share cores, e.g. scripts/cluster/netns-hosts.sh)
#   --run-dir DIR          where everything goes (default: results/mpirun-sweep-<UTC time>)
#   --attnbench PATH       the program (default: build/release/attnbench of this checkout)
#   --launcher-arg ARG     one more mpirun option for every step, repeatable (e.g. --launcher-arg=--oversubscribe)
#   --dry-run              print each step's command and run nothing
#   -- ARGS...             passed to every `attnbench run` (e.g. -- --check --min-time 1)
#
# OMP_NUM_THREADS=THREADS reaches every rank (with --bind core also OMP_PLACES=cores, OMP_PROC_BIND=close).
# The run directory holds results.jsonl (every record, with provenance.hosts naming the hosts its ranks
# ran on), command.txt, environment.txt, steps.tsv, steps/<step>.out and .err, and summary.txt.
# As root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment.
# Exit status: 0 every step succeeded, 1 a step failed (see summary.txt), 2 bad parameters.
set -euo pipefail
# shellcheck source=scripts/lib/sweep.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/sweep.sh"
AB_PROG=mpirun-sweep.sh

ab_usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
ab_launcher_version() { mpirun --version 2>&1 | head -1; }

hostfile="" bind=core
ab_script_option() {
  local opt=$1 value=$2 left=$3
  case "$opt" in
    --hostfile|--bind) { [ "$left" -ge 2 ] && [ -n "$value" ]; } || ab_die "$opt needs a value (see --help)" ;;
    *) return 1 ;;
  esac
  case "$opt" in
    --hostfile) hostfile=$value ;;
    --bind) bind=$value ;;
  esac
  AB_SHIFT=2
}

ab_launcher() {
  local n=$1 r=$2 t=$3
  AB_LAUNCH=(mpirun -np $((n * r)) -x OMP_NUM_THREADS)
  [ -z "$hostfile" ] || AB_LAUNCH+=(--hostfile "$hostfile")
  if [ "$bind" = core ]; then
    AB_LAUNCH+=(--map-by "ppr:$r:node:PE=$t" --bind-to core --report-bindings -x OMP_PLACES -x OMP_PROC_BIND)
  else
    AB_LAUNCH+=(--map-by "ppr:$r:node" --bind-to none)
  fi
  AB_LAUNCH+=("${AB_LAUNCHER_ARGS[@]}")
}

# Distinct host names in an Open MPI hostfile ("host [slots=N ...]" lines, '#' comments).
count_hostfile_hosts() {
  sed 's/#.*//' "$1" | awk 'NF { print $1 }' | sort -u | wc -l
}

ab_parse_options "$@"
command -v mpirun >/dev/null 2>&1 || ab_die "mpirun not found: install Open MPI (scripts/install-deps.sh) or load its module"
case "$bind" in core|none) ;; *) ab_die "--bind '$bind': use core or none" ;; esac
if [ -n "$hostfile" ]; then
  [ -r "$hostfile" ] || ab_die "--hostfile: cannot read '$hostfile'"
  ab_absolute hostfile
  hosts=$(count_hostfile_hosts "$hostfile")
  [ "$hosts" -gt 0 ] || ab_die "--hostfile '$hostfile' names no hosts"
  where="the hostfile names $hosts host(s)"
elif [ -n "${SLURM_JOB_NUM_NODES:-}" ]; then
  hosts=$SLURM_JOB_NUM_NODES where="the Slurm allocation has $hosts node(s)"
else
  hosts=1 where="without --hostfile or a Slurm allocation mpirun runs on this host only"
fi
[ "${#AB_NODES[@]}" -gt 0 ] || AB_NODES=("$hosts")
[ "${#AB_RANKS_PER_NODE[@]}" -gt 0 ] || AB_RANKS_PER_NODE=(1)
ab_validate_common
if [ "${#AB_THREADS[@]}" -eq 0 ]; then
  [ "${#AB_RANKS_PER_NODE[@]}" -eq 1 ] || ab_die "give --threads when sweeping several --ranks-per-node"
  AB_THREADS=($(( $(nproc) / AB_RANKS_PER_NODE[0] > 0 ? $(nproc) / AB_RANKS_PER_NODE[0] : 1 )))
fi
for n in "${AB_NODES[@]}"; do
  [ "$n" -le "$hosts" ] || ab_die "--nodes $n: $where"
done
if [ "$hosts" -eq 1 ] && [ -z "$hostfile" ] && [ "$bind" = core ]; then
  for r in "${AB_RANKS_PER_NODE[@]}"; do for t in "${AB_THREADS[@]}"; do
    [ $((r * t)) -le "$(nproc)" ] || ab_die "$r rank(s) x $t thread(s) needs $((r * t)) cores; this host has" \
      "$(nproc) (use --bind none --launcher-arg=--oversubscribe to oversubscribe on purpose)"
  done; done
fi
if [ "$(id -u)" -eq 0 ] && [ -z "${OMPI_ALLOW_RUN_AS_ROOT:-}" ] && [[ " ${AB_LAUNCHER_ARGS[*]} " != *" --allow-run-as-root "* ]]; then
  ab_die "running as root: Open MPI refuses unless you export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
fi
if [ "$bind" = core ]; then export OMP_PLACES=${OMP_PLACES:-cores} OMP_PROC_BIND=${OMP_PROC_BIND:-close}; fi
ab_prepare_run_dir "mpirun-sweep-$(date -u +%Y%m%dT%H%M%SZ)"
ab_sweep
