#!/usr/bin/env bash
# Two "hosts" on this one machine for multi-host MPI runs over real TCP: network namespaces h1 and h2
# joined by a veth pair (127.100.0.1 and 127.100.0.2, inside the loopback range, so no traffic can
# leave the machine), each process on them with its own host name (a UTS namespace), and an rsh
# agent through which mpirun starts its daemons there. Root only. Several can run side by side.
#
#   scripts/cluster/netns-hosts.sh up DIR [--owner PID]
#   scripts/cluster/netns-hosts.sh run DIR [--host h1|h2] -- COMMAND...
#   scripts/cluster/netns-hosts.sh down DIR
#   scripts/cluster/netns-hosts.sh check     # can this machine make them? (exit 0, else 2 and the reason)
#
#   up     DIR must be new or empty; it gets the hostfile (h1, h2), the rsh agent and mpi.env (the
#          Open MPI settings: TCP only, on the veth network, launched through the agent). --owner PID:
#          also delete the hosts when process PID exits, however it ends (for tests).
#   run    runs COMMAND on a host (default h1) with mpi.env applied, e.g.
#            netns-hosts.sh run DIR -- scripts/mpirun-sweep.sh --hostfile DIR/hostfile --bind none ...
#          (both hosts share this machine's cores, so bind none).
#   down   ends the processes inside the namespaces and deletes them. Safe to repeat.
# Exit status: 0 done (run: COMMAND's), 1 the hosts could not be created, 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"
CL_PROG=netns-hosts.sh
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
NET=127.100.0

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; }

# Root, the tools, and the right to make namespaces (a container may lack it); otherwise exit 2.
require_namespaces() {
  cl_require_root_and ip unshare sysctl nproc
  unshare --net true 2>/dev/null || cl_die "cannot create network namespaces here (needs CAP_SYS_ADMIN)"
}

# DIR/hosts: one line per host: "NAME NAMESPACE VETH ADDRESS".
host_field() {
  local dir=$1 host=$2 field=$3
  awk -v h="$host" -v f="$field" '$1 == h { print $f }' "$dir/hosts"
}

# Every step checks its status: this runs where set -e is off (under `if !`), so that a failure
# can tear down what was made.
create_hosts() {
  local dir=$1 id=$2 i ns veth
  for i in 1 2; do
    ns=attnbench-$id-h$i veth=ab$id$i
    echo "h$i $ns $veth $NET.$i" >> "$dir/hosts" || return 1
    ip netns add "$ns" || return 1
  done
  ip link add "ab${id}1" type veth peer name "ab${id}2" || return 1
  for i in 1 2; do
    ns=$(host_field "$dir" "h$i" 2) veth=$(host_field "$dir" "h$i" 3)
    ip link set "$veth" netns "$ns" || return 1
    ip -n "$ns" link set lo up || return 1
    # 127.0.0.0/8 on lo would swallow the veth's 127.100.0.0/24; keep lo to 127.0.0.1 alone.
    ip -n "$ns" addr del 127.0.0.1/8 dev lo || return 1
    ip -n "$ns" addr add 127.0.0.1/32 dev lo || return 1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 "net.ipv4.conf.$veth.route_localnet=1" ||
      return 1
    ip -n "$ns" addr add "$NET.$i/24" dev "$veth" || return 1
    ip -n "$ns" link set "$veth" up || return 1
  done
}

write_launch_files() {
  local dir=$1 slots
  slots=$(nproc)
  printf 'h1 slots=%s\nh2 slots=%s\n' "$slots" "$slots" > "$dir/hostfile"
  # Open MPI calls its rsh agent as `AGENT HOST COMMAND...` and, like ssh, expects a shell on the far
  # side to parse the command words.
  cat > "$dir/rsh-agent" <<EOF
#!/bin/sh
# Written by $CL_PROG: runs a command "on" h1 or h2 (its network namespace, its own host name).
host=\$1
shift
case "\$host" in
  h1) ns=$(host_field "$dir" h1 2) ;;
  h2) ns=$(host_field "$dir" h2 2) ;;
  *) echo "rsh-agent: unknown host '\$host' (this network has h1 and h2)" >&2; exit 255 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$host && \$*"
EOF
  chmod 755 "$dir/rsh-agent"
  cat > "$dir/mpi.env" <<EOF
export OMPI_MCA_plm_rsh_agent=$(printf '%q' "$dir/rsh-agent")
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=$NET.0/24 OMPI_MCA_oob_tcp_if_include=$NET.0/24
EOF
}

up() {
  local dir=$1 owner=""
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner) [ $# -ge 2 ] || cl_die "--owner needs a PID"; owner=$2; shift 2 ;;
      *) cl_die "unknown option '$1' (see --help)" ;;
    esac
  done
  [ -z "$owner" ] || [[ "$owner" =~ ^[0-9]+$ ]] || cl_die "--owner '$owner' is not a process id"
  [[ $dir == /* ]] || dir=$PWD/$dir
  # Open MPI splits its agent setting on spaces.
  [[ "$dir" != *[[:space:]]* ]] || cl_die "'$dir' contains white space; Open MPI cannot call an agent there"
  require_namespaces
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then cl_die "'$dir' is not empty; give a new directory"; fi
  mkdir -p "$dir"
  [ -z "$owner" ] || cl_start_reaper "$owner" "$dir/reaper.pid" "$dir/reaper.log" "$SELF" down "$dir"
  # A short random id keeps interface names within 15 characters and apart from other networks.
  local id
  id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  : > "$dir/hosts"
  if ! create_hosts "$dir" "$id"; then
    echo "$CL_PROG: could not create the network namespaces (is this a container without CAP_NET_ADMIN?)" >&2
    down "$dir"
    exit 1
  fi
  write_launch_files "$dir"
  echo "$CL_PROG: hosts h1 ($NET.1) and h2 ($NET.2) up in $dir; '$SELF run $(printf '%q' "$dir") -- CMD' runs CMD on h1"
}

run() {
  local dir=$1 host=h1 ns
  shift
  if [ "${1:-}" = --host ]; then [ $# -ge 2 ] || cl_die "--host needs h1 or h2"; host=$2; shift 2; fi
  [ "${1:-}" = -- ] || cl_die "usage: $CL_PROG run DIR [--host h1|h2] -- COMMAND..."
  shift
  [ $# -gt 0 ] || cl_die "run: no COMMAND after --"
  [ -f "$dir/hosts" ] || cl_die "'$dir' holds no hosts; run '$CL_PROG up $dir' first"
  ns=$(host_field "$dir" "$host" 2)
  [ -n "$ns" ] || cl_die "--host '$host': the hosts are h1 and h2"
  # shellcheck source=/dev/null  # mpi.env is written by up, at run time
  source "$dir/mpi.env"
  # shellcheck disable=SC2016  # expanded by the inner sh
  exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
}

down() {
  local dir=$1 ns
  [ -d "$dir" ] || cl_die "'$dir' does not exist"
  dir=$(cd -- "$dir" && pwd)
  cl_stop_reaper "$dir/reaper.pid"
  [ -f "$dir/hosts" ] || return 0
  local -a namespaces
  mapfile -t namespaces < <(awk '{ print $2 }' "$dir/hosts")
  for ns in "${namespaces[@]}"; do
    ip netns list | awk '{ print $1 }' | grep -qxF "$ns" || continue
    local -a pids=()
    mapfile -t pids < <(ip netns pids "$ns")
    cl_stop_pids 3 "${pids[@]}"
    ip netns del "$ns"  # its end of the veth pair goes with it, and with that the pair
  done
  echo "$CL_PROG: deleted the hosts of $dir"
}

case "${1:-}" in
  up|run|down) [ $# -ge 2 ] || cl_die "usage: $CL_PROG $1 DIR (see --help)"; "$@" ;;
  check) require_namespaces; echo "$CL_PROG: this machine can make network-namespace hosts" ;;
  -h|--help) usage ;;
  *) cl_die "usage: $CL_PROG up|run|down DIR [options], or check (see --help)" ;;
esac
