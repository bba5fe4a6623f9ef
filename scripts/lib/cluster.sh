# shellcheck shell=bash
# Shell functions shared by the one-machine cluster scripts (scripts/cluster/local-slurm.sh,
# scripts/cluster/netns-hosts.sh) and their tests (tests/cluster/common.sh). The scripts set CL_PROG
# before using them.

cl_die() { echo "$CL_PROG: error: $*" >&2; exit 2; }
cl_fail() { echo "$CL_PROG: $*" >&2; exit 1; }

# What is missing of root and the given tools (names on PATH or absolute paths), as the reason to
# print; nothing when all is there. Everything here changes system state (daemons, namespaces).
cl_missing() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (it starts system daemons / creates network namespaces)"; return 0; }
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "'$tool' not found; install the cluster packages: scripts/install-deps.sh"; return 0; }
  done
}

cl_require_root_and() {
  local missing
  missing=$(cl_missing "$@")
  [ -z "$missing" ] || cl_die "$missing"
}

# A reaper that runs "$@" once process OWNER has exited, however it exited: a test killed by its
# timeout (SIGKILL runs no trap) must not leave daemons or namespaces behind. It runs in its own
# session so that killing the owner's process group spares it; its pid goes to PIDFILE.
cl_start_reaper() {
  local owner=$1 pidfile=$2 log=$3
  shift 3
  kill -0 "$owner" 2>/dev/null || cl_die "--owner $owner: no such process"
  # shellcheck disable=SC2016  # expanded by the reaper's own shell
  setsid bash -c 'echo $$ > "$1"; owner=$2; shift 2; while kill -0 "$owner" 2>/dev/null; do sleep 1; done; exec "$@"' \
    reaper "$pidfile" "$owner" "$@" < /dev/null >> "$log" 2>&1 &
  for _ in $(seq 50); do [ -s "$pidfile" ] && return 0; sleep 0.1; done
  cl_fail "the reaper did not start"
}

# Stops the reaper, unless this process is the reaper itself (it execs the tear-down).
cl_stop_reaper() {
  local pidfile=$1 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  [ "$pid" = "$$" ] || kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# Sends TERM to the given pids, waits up to SECONDS for them to go, then KILLs what is left.
cl_stop_pids() {
  local seconds=$1 pid
  shift
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq $((seconds * 10))); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null || true
}

# The pid in PIDFILE if that process is still alive and is NAME (a stale pid file must never lead to
# killing whatever process reused the number).
cl_pid_of() {
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && echo "$pid"
  return 0
}
