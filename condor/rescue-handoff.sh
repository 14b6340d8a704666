#!/usr/bin/env bash
# A local run's records handed to a real DAGMan: `gwrepro run --dag` runs a small DAG in which one node fails, and
# writes the rescue DAG, node status file and jobstate log; then the failure is fixed and `condor_submit_dag` resumes
# the same DAG on a personal pool (condor/personal-pool.sh). Checks that DAGMan picked up the local rescue DAG
# (ran only the nodes it does not mark DONE), went on numbering from the local jobstate log, and ended with every node
# DONE in the node status file, the node DONE in the DAG file itself "User defined as DONE".
#
#   condor/rescue-handoff.sh [GWREPRO]     GWREPRO: the gwrepro binary (default: dist/gwrepro)
#
# The DAG is tests/data/workflow/dagman-25.14.1/resume/x.dag (its PROVENANCE.md records a run of this script's steps).
# Needs root (the chroot); the pool is stopped on exit unless GWREPRO_KEEP_POOL=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pool="$here/personal-pool.sh"
gwrepro=${1:-$repo/dist/gwrepro}
timeout=${GWREPRO_DEMO_TIMEOUT:-300}
[ -x "$gwrepro" ] || { echo "rescue-handoff: $gwrepro is not an executable gwrepro (publish it: dotnet publish src/GwReprocess.Cli -c Release -r linux-x64 -o dist)" >&2; exit 2; }

log() { printf '[rescue-handoff %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail=0
check() { if eval "$2"; then log "ok   $1"; else log "FAIL $1"; fail=1; fi; }

"$pool" build
root=$("$pool" path)
cleanup() { [ "${GWREPRO_KEEP_POOL:-0}" = 1 ] || "$pool" stop; }
trap cleanup EXIT

dir=/home/gwrepro/rescue-handoff
d="$root$dir"
rm -rf "$d"; mkdir -p "$d/logs"
cp "$repo/tests/data/workflow/dagman-25.14.1/resume/x.dag" "$repo/tests/data/workflow/dagman-25.14.1/resume/node.sub" "$d/"

log "local run with node 'bad' broken (gwrepro run --dag)"
touch "$d/broken-bad"
set +e; "$gwrepro" run --dag "$d/x.dag" --stop-grace 1 -q; code=$?; set -e
check "the local run exits 3 (a node failed)" '[ "$code" = 3 ]'
check "it wrote x.dag.rescue001 marking pre and ok DONE" 'grep -qx "DONE pre" "$d/x.dag.rescue001" && grep -qx "DONE ok" "$d/x.dag.rescue001" && [ "$(grep -c "^DONE" "$d/x.dag.rescue001")" = 2 ]'
local_max=$(awk '$2 != "INTERNAL" {print $7}' "$d/x.jobstate.log" | sort -n | tail -n 1)

rm "$d/broken-bad"
chroot "$root" chown -R gwrepro:gwrepro "$dir"
"$pool" start
log "condor_submit_dag x.dag (the local rescue DAG is applied automatically)"
"$pool" run sh -c "cd $dir && condor_submit_dag x.dag" >&2
out="$d/x.dag.dagman.out"
deadline=$(( $(date +%s) + timeout ))
until [ -f "$out" ] && grep -q "EXITING WITH STATUS" "$out"; do
  if [ "$(date +%s)" -ge "$deadline" ]; then log "FAIL the DAG did not finish in ${timeout} s"; "$pool" run sh -c "condor_rm -all" >/dev/null 2>&1 || true; exit 1; fi
  sleep 3
done

check "DAGMan used the local rescue DAG" 'grep -q "USING RESCUE DAG x.dag.rescue001" "$out"'
check "DAGMan exited with status 0" 'grep -q "EXITING WITH STATUS 0" "$out"'
# After DAGMan's DAGMAN_STARTED: submissions only of bad, kid and fin, numbered after the local run's.
after=$(awk '/DAGMAN_STARTED/ {n++} n == 2 && $3 == "SUBMIT" {print $2, $7}' "$d/x.jobstate.log")
check "DAGMan submitted only bad, kid and fin" '[ "$(echo "$after" | awk "{print \$1}" | sort | tr "\n" " ")" = "bad fin kid " ]'
check "DAGMan's sequence numbers go on from the local log's ($local_max)" '[ "$(echo "$after" | awk "{print \$2}" | sort -n | head -n 1)" = "$((local_max + 1))" ]'
check "every node DONE in x.status" '[ "$(grep -c "NodeStatus = 5;" "$d/x.status")" = 5 ] && grep -q "DagStatus = 5;" "$d/x.status"'
check "the node DONE in the DAG file is \"User defined as DONE\"" 'grep -A2 "Node = \"pre\"" "$d/x.status" | grep -q "User defined as DONE"'
exit $fail
