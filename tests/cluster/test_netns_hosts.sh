#!/usr/bin/env bash
# Two ranks on two "hosts" (network namespaces h1 and h2, each with its own host name) talking over
# TCP across a veth pair: scripts/mpirun-sweep.sh with a hostfile, Open MPI launching through the rsh
# agent. Checks that the records say two hosts and are correct, and that traffic really crossed the
# veth. The namespaces are deleted whatever happens (trap, and a reaper should this script be killed);
# the reaper itself is checked too.
#   bash test_netns_hosts.sh ATTNBENCH
set -euo pipefail
# shellcheck source=tests/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_cluster_script netns-hosts.sh
require_root_and_tools mpirun python3
allow_mpi_as_root

work=$(mktemp -d /tmp/attnbench-test-netns.XXXXXX)
tear_down() {
  local net status=0
  for net in "$work"/net*; do "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" down "$net" || status=1; done
  return "$status"
}
trap 'finish_cluster_test $? "$work" "$work/sweep.log" "$work/run/summary.txt" "$work"/run/steps/*.err' EXIT
trap 'exit 130' INT TERM

"$SOURCE_DIR/scripts/cluster/netns-hosts.sh" up "$work/net" --owner $$
kernels=$(test_kernel_patterns "$ATTNBENCH")
kernel_ids=$(test_kernel_ids "$ATTNBENCH")
IFS=, read -r -a kernel_list <<< "$kernel_ids"
IFS=, read -r -a problem_list <<< "$TEST_PROBLEMS"

timeout 60 "$SOURCE_DIR/scripts/cluster/netns-hosts.sh" run "$work/net" -- \
  "$SOURCE_DIR/scripts/mpirun-sweep.sh" --hostfile "$work/net/hostfile" --bind none --nodes 2 --ranks-per-node 1 \
  --threads 1 --kernels "$kernels" --problems "$TEST_PROBLEMS" --run-dir "$work/run" --attnbench "$ATTNBENCH" \
  -- "${TEST_RUN_ARGS[@]}" > "$work/sweep.log" 2>&1 || fail "the sweep exited $? (log below)"

python3 "$SOURCE_DIR/tests/cluster/check_records.py" "$work/run/results.jsonl" \
  --records $(( ${#kernel_list[@]} * ${#problem_list[@]} )) --ranks 2 --hosts h1,h2 --kernels "$kernel_ids"

# The ranks' messages went over the veth pair, both ways (not over some shared loopback).
for host in h1 h2; do
  read -r _ ns veth _ < <(awk -v h="$host" '$1 == h' "$work/net/hosts")
  for counter in tx_bytes rx_bytes; do
    bytes=$(ip netns exec "$ns" cat "/sys/class/net/$veth/statistics/$counter")
    [ "$bytes" -gt 1000 ] || fail "$host's veth $counter is $bytes: the ranks did not talk over TCP between hosts"
  done
done
grep -q -- "--hostfile $work/net/hostfile --map-by ppr:1:node --bind-to none" "$work/run/command.txt" ||
  fail "command.txt lacks the mpirun line"

# The reaper: hosts whose owner ends (here a short sleep) go away without anyone calling down.
sleep 1 &
owner=$!
"$SOURCE_DIR/scripts/cluster/netns-hosts.sh" up "$work/net-reaped" --owner "$owner" > /dev/null
wait "$owner"
deadline=$((SECONDS + 10))
while ip netns list | grep -qF "$(awk '$1 == "h1" { print $2 }' "$work/net-reaped/hosts")"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the hosts outlived their owner by 10 s: the reaper did not delete them"
  sleep 0.2
done
echo "$TEST_NAME: passed in $SECONDS s"
