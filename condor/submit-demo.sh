#!/usr/bin/env bash
# The demo on a real HTCondor: a personal pool on loopback (condor/personal-pool.sh), the CI cut of the demo
# workflow (condor/ci-demo.toml: 256 s of simulated H1+L1, two client jobs), its run directory written by
# `gwrepro dag`, submitted with condor_submit_dag as the pool's unprivileged user, waited for (bounded), then
# checked: DAGMan exited 0, every node of the node status file is DONE, and every output each job must
# commit exists (cleaned frames per detector and scores per input-frame piece, metrics, done markers, report).
#
#   condor/submit-demo.sh [GWREPRO]      GWREPRO: the self-contained gwrepro binary (default: dist/gwrepro)
#
# Env: GWREPRO_DEMO_TIMEOUT (seconds to wait for the DAG, default 600), GWREPRO_KEEP_POOL=1 (leave the pool running).
# Needs root (the chroot); the pool is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pool="$here/personal-pool.sh"
gwrepro=${1:-$repo/dist/gwrepro}
timeout=${GWREPRO_DEMO_TIMEOUT:-600}
[ -x "$gwrepro" ] || { echo "submit-demo: $gwrepro is not an executable gwrepro (publish it: dotnet publish src/GwReprocess.Cli -c Release -r linux-x64 -o dist)" >&2; exit 2; }

log() { printf '[submit-demo %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
started=$(date +%s)

"$pool" build
root=$("$pool" path)
cleanup() { [ "${GWREPRO_KEEP_POOL:-0}" = 1 ] || "$pool" stop; }
trap cleanup EXIT
"$pool" start

# The binary and the run directory live inside the chroot, owned by the pool's user.
home=/home/gwrepro
bin=$home/bin/gwrepro
dir=$home/ci-demo
rm -rf "$root$dir"
mkdir -p "$root$home/bin" "$root$dir"
cp "$gwrepro" "$root$bin"
cp "$here/ci-demo.toml" "$root$dir/workflow.toml"
chroot "$root" chown -R gwrepro:gwrepro "$home/bin" "$dir"
in_pool() { "$pool" run sh -c "cd $dir && $*"; }

log "simulating the data and building the models (gwrepro run --prepare-only)"
in_pool "$bin run workflow.toml --out . --prepare-only -q"
log "writing the run directory (gwrepro dag)"
in_pool "$bin dag workflow.toml --out . --executable $bin"
log "submitting (condor_submit_dag)"
in_pool "condor_submit_dag -batch-name ci-demo reprocess.dag" >&2

out="$root$dir/reprocess.dag.dagman.out"
deadline=$(( $(date +%s) + timeout ))
until [ -f "$out" ] && grep -q "EXITING WITH STATUS" "$out"; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "FAIL: the DAG did not finish in ${timeout} s"
    in_pool "condor_q -nobatch" >&2 || true
    [ -f "$out" ] && tail -n 40 "$out" >&2
    in_pool "condor_rm -all" >/dev/null 2>&1 || true
    exit 1
  fi
  sleep 5
done
fail=0
status=$(grep -o "EXITING WITH STATUS [0-9]*" "$out" | tail -n 1 | awk '{print $4}')
if [ "$status" = 0 ]; then log "ok   DAGMan exited with status 0"; else log "FAIL DAGMan exited with status $status"; fail=1; fi

# Every node (server, clients, FINAL) in the node status file must be DONE (NodeStatus 5).
statusfile="$root$dir/reprocess.status"
if [ -f "$statusfile" ]; then
  nodes=$(grep -c 'Type = "NodeStatus"' "$statusfile" || true)
  bad=$(awk '/Type = "NodeStatus"/ {n=1} n && /^ *Node = / {name=$3} n && /^ *NodeStatus = / {if ($3 != "5;" && $3 != "5") print name; n=0}' "$statusfile" | tr -d '";' | tr '\n' ' ')
  if [ "$nodes" -gt 0 ] && [ -z "$bad" ]; then log "ok   all $nodes node(s) DONE in reprocess.status"; else log "FAIL nodes not DONE: ${bad:-none listed}"; fail=1; fi
else
  log "FAIL no node status file $statusfile"; fail=1
fi
grep -E "Of [0-9]+ nodes total|Done +Pre +Queued" -A 2 "$out" | tail -n 4 >&2 || true

# Every output the contract names, per job: cleaned strain per detector and scores, one file per piece of the
# job's core segment cut at the input frame boundaries (jobs are planned on that grid, so each is one input file
# but at a segment's edges); metrics; the done marker. Then the FINAL node's report.
frame=$(awk -F' *= *' '/^frame_length/ {print $2}' "$root$dir/workflow.toml" | awk '{print $1}')
ifos=$(awk -F'[.\\]]' '/^\[detectors\./ {print $2}' "$root$dir/workflow.toml")
tag=$(echo $ifos | tr -d ' ')
o="$root$dir/out"
missing=0
expect() { if [ -s "$1" ]; then :; else log "FAIL missing ${1#$root$dir/}"; missing=$((missing + 1)); fi; }
jobs=0
while IFS=, read -r job start end _; do
  [ "$job" = job ] && continue
  jobs=$((jobs + 1))
  expect "$o/done/$job"
  expect "$o/metrics/$job.csv"
  t=$start
  while [ "$t" -lt "$end" ]; do
    next=$(( (t / frame + 1) * frame )); [ "$next" -gt "$end" ] && next=$end
    for ifo in $ifos; do expect "$o/cleaned/$ifo/${ifo:0:1}-${ifo}_CLEAN-$t-$((next - t)).gwf"; done
    expect "$o/scores/$tag-CLEAN_SCORES-$t-$((next - t)).h5"
    t=$next
  done
done < "$root$dir/jobs.csv"
expect "$root$dir/report/report.html"
# The FINAL node's index of the outputs: a LAL cache and a segment file of the cleaned frames per detector, a cache of the scores.
for ifo in $ifos; do expect "$o/cleaned/$ifo.lcf"; expect "$o/cleaned/$ifo-cleaned-segments.txt"; done
expect "$o/scores/index.lcf"
if [ "$missing" -eq 0 ] && [ "$jobs" -gt 0 ]; then log "ok   every output of the $jobs job(s) and the report exist"; else fail=1; fi

if [ "$fail" -ne 0 ]; then
  log "logs of failed nodes:"
  for f in "$root$dir"/logs/*.err; do [ -s "$f" ] && { echo "--- ${f#$root}"; tail -n 15 "$f"; } >&2; done
fi
log "finished in $(( $(date +%s) - started )) s"
exit $fail
