#!/usr/bin/env bash
# The demo on a real HTCondor: a personal pool on loopback (condor/personal-pool.sh), the CI cut of the demo
# workflow (condor/ci-demo.toml: 256 s of simulated H1+L1, two client jobs), its run directory written by
# `gwrepro dag`, submitted with condor_submit_dag as the pool's unprivileged user, waited for (bounded), then
# checked: DAGMan exited 0, every node of the node status file is DONE, and every output each job must
# commit exists (cleaned frames per detector and scores per input-frame piece, metrics, done markers, report).
# Then the same DAG again in a copy of the run directory, with the server process killed (kill -9) while the clients
# stream: the schedd reruns it in place (server.sub's max_retries), it publishes its new address, the clients find
# it in the rendezvous and resume; checked: DAGMan exited 0, every node DONE, the server ran twice, a client
# reconnected, and the cleaned frames and scores are byte-identical to the undisturbed run's.
#
#   condor/submit-demo.sh [GWREPRO]      GWREPRO: the self-contained gwrepro binary (default: dist/gwrepro)
#
# Env: GWREPRO_DEMO_TIMEOUT (seconds to wait for each DAG, default 600), GWREPRO_KEEP_POOL=1 (leave the pool running),
# GWREPRO_DEMO_KILL_SERVER=0 (skip the killed-server run).
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
kill_server=${GWREPRO_DEMO_KILL_SERVER:-1}
kdir=$dir-kill
# The killed-server run starts from the same prepared data and models, so its outputs can be compared byte for byte.
rm -rf "$root$kdir"
[ "$kill_server" = 0 ] || chroot "$root" cp -a "$dir" "$kdir"
log "writing the run directory (gwrepro dag)"
in_pool "$bin dag workflow.toml --out . --executable $bin"
log "submitting (condor_submit_dag)"
in_pool "condor_submit_dag -batch-name ci-demo reprocess.dag" >&2

# Waits for the DAG in $1 (a directory inside the chroot) to end; exits the script when it does not in time.
wait_dag() {
  local out="$root$1/reprocess.dag.dagman.out" deadline=$(( $(date +%s) + timeout ))
  until [ -f "$out" ] && grep -q "EXITING WITH STATUS" "$out"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "FAIL: the DAG in $1 did not finish in ${timeout} s"
      in_pool "condor_q -nobatch" >&2 || true
      [ -f "$out" ] && tail -n 40 "$out" >&2
      in_pool "condor_rm -all" >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 3
  done
}
wait_dag "$dir"
out="$root$dir/reprocess.dag.dagman.out"
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

# The same DAG with its server killed while the clients stream.
if [ "$kill_server" != 0 ] && [ "$fail" -eq 0 ]; then
  k="$root$kdir"
  in_kill() { "$pool" run sh -c "cd $kdir && $*"; }
  log "killed-server run: writing and submitting the same DAG in ${kdir}"
  in_kill "$bin dag workflow.toml --out . --executable $bin"
  in_kill "condor_submit_dag -batch-name ci-demo-kill reprocess.dag" >&2
  # The server logs its pid when it publishes its address; the clients log the start barrier just before they stream.
  pid=""
  deadline=$(( $(date +%s) + timeout ))
  until [ -n "$pid" ] && grep -qs "start barrier passed" "$k"/logs/clean_*; do
    [ -n "$pid" ] || pid=$(grep -hos "(pid [0-9]*)" "$k"/logs/server_0.*.out "$k"/logs/server_0.*.err | head -n 1 | tr -dc 0-9 || true)
    if [ "$(date +%s)" -ge "$deadline" ]; then log "FAIL the killed-server run's clients never started streaming"; fail=1; break; fi
    sleep 0.2
  done
  if [ "$fail" -eq 0 ]; then
    # A client streams for a few seconds after its barrier: a second in, every client is mid-stream.
    sleep 1
    kill -9 "$pid"
    log "killed the server (kill -9 $pid) while the clients stream"
    wait_dag "$kdir"
    kout="$k/reprocess.dag.dagman.out"
    kstatus=$(grep -o "EXITING WITH STATUS [0-9]*" "$kout" | tail -n 1 | awk '{print $4}')
    if [ "$kstatus" = 0 ]; then log "ok   killed-server run: DAGMan exited with status 0"; else log "FAIL killed-server run: DAGMan exited with status $kstatus"; fail=1; fi
    kbad=$(awk '/Type = "NodeStatus"/ {n=1} n && /^ *Node = / {name=$3} n && /^ *NodeStatus = / {if ($3 != "5;" && $3 != "5") print name; n=0}' "$k/reprocess.status" | tr -d '";' | tr '\n' ' ')
    if [ -z "$kbad" ]; then log "ok   killed-server run: every node DONE in reprocess.status"; else log "FAIL killed-server run: nodes not DONE: $kbad"; fail=1; fi
    # The schedd reran the server in place: the jobstate log shows its job executing twice.
    runs=$(awk '$2 == "server_0" && $3 == "EXECUTE"' "$k/reprocess.jobstate.log" | wc -l)
    if [ "$runs" -ge 2 ]; then log "ok   the server ran again after the kill ($runs EXECUTE events for server_0)"; else log "FAIL the server did not run again ($runs EXECUTE event(s) for server_0)"; fail=1; fi
    awk '$2 == "server_0"' "$k/reprocess.jobstate.log" >&2
    if grep -qs "stream error" "$k"/logs/clean_*; then log "ok   a client lost its stream and resumed: $(grep -hs "is now at\|stream error" "$k"/logs/clean_* | head -n 2 | tr '\n' ' ')"; else log "FAIL no client saw the kill (no stream error in the client logs)"; fail=1; fi
    # Byte-identical data products (metrics and the report carry timings, so they differ by nature).
    differ=0 compared=0
    while IFS= read -r f; do
      compared=$((compared + 1))
      cmp -s "$o/$f" "$k/out/$f" || { log "FAIL ${f} differs from the undisturbed run's"; differ=$((differ + 1)); }
    done < <(cd "$o" && find cleaned scores -type f -name "*.gwf" -o -type f -name "*.h5" | sort)
    extra=$(cd "$k/out" && find cleaned scores -type f \( -name "*.gwf" -o -name "*.h5" \) | wc -l)
    if [ "$differ" -eq 0 ] && [ "$compared" -gt 0 ] && [ "$extra" -eq "$compared" ]; then log "ok   killed-server run: all $compared cleaned frame and score file(s) byte-identical to the undisturbed run"; else log "FAIL killed-server run: $differ of $compared output file(s) differ ($extra written)"; fail=1; fi
  fi
  if [ "$fail" -ne 0 ]; then
    for f in "$k"/logs/*.err "$k"/logs/*.out; do [ -s "$f" ] && { echo "--- ${f#$root}"; tail -n 15 "$f"; } >&2; done
  fi
fi
log "finished in $(( $(date +%s) - started )) s"
exit $fail
