#!/usr/bin/env bash
# A real Slurm cluster on this one machine, for trying the job scripts and for CI: its own munged,
# slurmctld and N slurmd "nodes" (n1, n2, ...; they share this host's cores and host name), all state,
# logs and sockets inside DIR, on free ports, so several can run side by side. Root only.
#
#   scripts/cluster/local-slurm.sh up DIR [--nodes N] [--owner PID]
#   source DIR/env                        # SLURM_CONF for sbatch, srun, squeue, sinfo
#   sbatch -N 2 scripts/slurm/attnbench-sweep.sbatch ...
#   scripts/cluster/local-slurm.sh down DIR
#   scripts/cluster/local-slurm.sh check     # can this machine run one? (exit 0, else 2 and the reason)
#
#   up     DIR must be new or empty. --nodes N: slurmd nodes (default 2). --owner PID: also tear the
#          cluster down when process PID exits, however it ends (for tests). Waits until every node is
#          idle (at most 20 s); on failure prints the logs, tears down and exits 1.
#   down   cancels the cluster's jobs, stops its daemons and any of its job processes left; DIR and
#          its logs (DIR/log) stay. Safe to repeat.
# Two nodes share one host name, so Open MPI's shared-memory transport can clash between ranks of
# one job on different nodes: jobs here should use OMPI_MCA_btl=self,tcp (DIR/env sets it).
# Exit status: 0 done, 1 the cluster did not come up, 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"
CL_PROG=local-slurm.sh
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
# Port picking and start-up are serialised across concurrent clusters: once one cluster's daemons
# listen, the next one's check sees their ports taken.
PORT_LOCK=/tmp/attnbench-local-slurm.lock

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; }

# Root, the daemons and their tools; otherwise exit 2 with what is missing.
require_cluster_tools() { cl_require_root_and slurmctld slurmd sinfo scontrol munge runuser ss flock /usr/sbin/munged; }

# N+1 consecutive TCP ports nobody listens on, below the kernel's ephemeral range.
free_ports() {
  local count=$1 base p taken
  for _ in $(seq 100); do
    base=$((20000 + RANDOM % 12000))
    taken=0
    for p in $(seq "$base" $((base + count - 1))); do
      [ -z "$(ss -Htln "sport = :$p")" ] || taken=1
    done
    [ "$taken" -eq 0 ] && { echo "$base"; return 0; }
  done
  cl_fail "found no $count free consecutive ports in 20000-32000"
}

write_conf() {
  local dir=$1 nodes=$2 port=$3 cpus mem i
  cpus=$(nproc)
  # Each node claims the machine's memory divided among the nodes (slurmd refuses to claim more).
  mem=$(( $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) / nodes ))
  cat > "$dir/slurm.conf" <<EOF
# Written by $CL_PROG: $nodes virtual nodes on $(hostname), everything under $dir.
ClusterName=attnbench-local
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=2
# The nodes are described as one socket of \$(nproc) cores whatever the real topology (sockets,
# hyper-threads): take that description as given rather than draining a node over the difference.
SlurmdParameters=config_overrides
TmpFS=$dir/tmp/%n
EOF
  for i in $(seq "$nodes"); do
    echo "NodeName=n$i NodeHostname=localhost Port=$((port + i)) CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem" >> "$dir/slurm.conf"
    mkdir -p "$dir/spool/n$i" "$dir/tmp/n$i"
  done
  echo "PartitionName=debug Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP" >> "$dir/slurm.conf"
}

# Our own munged on a socket inside DIR: a system munged (or another local cluster's) is left alone.
start_munged() {
  local dir=$1
  [ -r /etc/munge/munge.key ] || cl_fail "/etc/munge/munge.key is missing (the munge package creates it)"
  mkdir -p "$dir/munge"
  chown munge: "$dir/munge"
  chmod 755 "$dir" "$dir/munge"
  runuser -u munge -- test -x "$dir/munge" ||
    cl_die "the munge user cannot reach '$dir'; choose a directory under /tmp"
  runuser -u munge -- /usr/sbin/munged --socket="$dir/munge/socket" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed"
}

show_logs() {
  local dir=$1 f
  for f in "$dir"/log/*.log "$dir"/munge/munged.log; do
    [ -f "$f" ] || continue
    echo "--- $f (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
}

# Every node registered and idle, within 20 s (each query bounded too: with broken authentication
# Slurm's clients retry for a long time).
wait_until_idle() {
  local nodes=$1 deadline=$((SECONDS + 20)) idle
  while [ "$SECONDS" -lt "$deadline" ]; do
    idle=$(timeout 5 sinfo -h -N -o '%N %T' 2>/dev/null | awk '$2 == "idle"' | wc -l) || idle=0
    [ "$idle" -eq "$nodes" ] && return 0
    sleep 0.2
  done
  echo "$CL_PROG: the nodes were not all idle after 20 s" >&2
  return 1
}

up() {
  local dir=$1 nodes=2 owner=""
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) [ $# -ge 2 ] || cl_die "--nodes needs a value"; nodes=$2; shift 2 ;;
      --owner) [ $# -ge 2 ] || cl_die "--owner needs a PID"; owner=$2; shift 2 ;;
      *) cl_die "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ "$nodes" =~ ^[1-9][0-9]?$ ]] || cl_die "--nodes '$nodes': give 1 to 99"
  # slurm.conf cannot quote a path (white space, '#', '=' and ',' end a value; '%' is expanded) and the
  # daemons take it as is: plain characters only, checked on the absolute path.
  [[ $dir == /* ]] || dir=$PWD/$dir
  [[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] ||
    cl_die "'$dir': Slurm's configuration cannot hold this path; give a directory whose path has only" \
      "letters, digits and . _ / + - (e.g. under /tmp)"
  [ -z "$owner" ] || [[ "$owner" =~ ^[0-9]+$ ]] || cl_die "--owner '$owner' is not a process id"
  require_cluster_tools
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then cl_die "'$dir' is not empty; give a new directory"; fi
  mkdir -p "$dir"/{state,log}
  [ -z "$owner" ] || cl_start_reaper "$owner" "$dir/reaper.pid" "$dir/log/reaper.log" "$SELF" down "$dir"
  cat > "$dir/env" <<EOF
# Source this to use the local cluster in $dir.
export SLURM_CONF=$(printf '%q' "$dir/slurm.conf")
# Its nodes share one host name: keep Open MPI off shared memory between them.
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
EOF
  export SLURM_CONF=$dir/slurm.conf
  # (set -e does not apply inside a subshell whose status is tested: every step says how it failed.)
  (
    flock -w 60 9 || cl_fail "waited 60 s for $PORT_LOCK"
    port=$(free_ports $((nodes + 1))) || exit 1
    write_conf "$dir" "$nodes" "$port" || exit 1
    start_munged "$dir" || cl_fail "munged did not start"
    slurmctld -f "$SLURM_CONF" || cl_fail "slurmctld did not start"
    for i in $(seq "$nodes"); do slurmd -f "$SLURM_CONF" -N "n$i" || cl_fail "slurmd n$i did not start"; done
    wait_until_idle "$nodes"
  ) 9> "$PORT_LOCK" || {
    echo "$CL_PROG: the cluster in $dir did not come up:" >&2
    show_logs "$dir"
    down "$dir"
    exit 1
  }
  echo "$CL_PROG: $nodes node(s) up in $dir; 'source $dir/env' to use them, '$SELF down $dir' to stop"
}

# Processes of this cluster's jobs: step daemons (slurmstepd) and job processes (batch scripts, srun,
# tasks, which carry SLURM_JOB_ID), each with SLURM_CONF naming this cluster's configuration. A shell
# that merely sourced DIR/env has no SLURM_JOB_ID and is left alone.
job_processes() {
  local conf=$1 env_file pid environment
  for env_file in /proc/[0-9]*/environ; do
    pid=${env_file#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    environment=$({ tr '\0' '\n' < "$env_file"; } 2>/dev/null) || continue
    grep -qxF "SLURM_CONF=$conf" <<< "$environment" || continue
    if grep -q '^SLURM_JOB_ID=' <<< "$environment" || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ]; then
      echo "$pid"
    fi
  done
  return 0
}

down() {
  local dir=$1 node_pidfile
  [ -d "$dir" ] || cl_die "'$dir' does not exist"
  dir=$(cd -- "$dir" && pwd)
  cl_stop_reaper "$dir/reaper.pid"
  export SLURM_CONF=$dir/slurm.conf
  local -a daemons=()
  # Cancelled jobs are cleaned up by Slurm itself while its daemons still run (a few seconds at most).
  if [ -f "$SLURM_CONF" ] && [ -n "$(cl_pid_of slurmctld "$dir/slurmctld.pid")" ]; then
    timeout 5 scancel --quiet --partition=debug 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while [ "$SECONDS" -lt "$deadline" ] && [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ]; do sleep 0.2; done
  fi
  mapfile -t daemons < <(cl_pid_of slurmctld "$dir/slurmctld.pid"
                         for node_pidfile in "$dir"/slurmd-*.pid; do cl_pid_of slurmd "$node_pidfile"; done)
  cl_stop_pids 5 "${daemons[@]}"
  local -a leftovers=()
  [ -f "$SLURM_CONF" ] && mapfile -t leftovers < <(job_processes "$SLURM_CONF")
  cl_stop_pids 2 "${leftovers[@]}"
  local -a munged=()
  mapfile -t munged < <(cl_pid_of munged "$dir/munge/munged.pid")
  cl_stop_pids 5 "${munged[@]}"
  rm -f "$dir"/slurmctld.pid "$dir"/slurmd-*.pid
  echo "$CL_PROG: stopped the cluster in $dir"
}

case "${1:-}" in
  up|down) [ $# -ge 2 ] || cl_die "usage: $CL_PROG $1 DIR (see --help)"; "$@" ;;
  check) require_cluster_tools; echo "$CL_PROG: this machine can run a local Slurm cluster" ;;
  -h|--help) usage ;;
  *) cl_die "usage: $CL_PROG up|down DIR [options], or check (see --help)" ;;
esac
