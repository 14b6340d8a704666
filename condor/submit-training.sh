#!/usr/bin/env bash
# A DAG with a real training node on a real HTCondor: the personal pool (condor/personal-pool.sh), the CI cut of the demo
# with [training] (condor/ci-train.toml: 256 s of simulated H1+L1, two client jobs, one training node on the first 64 s)
# and the demo's model repository (model-repository/, whose gwe2e-deepclean runs deepclean-h1/-l1), written by
# `gwrepro dag`, submitted with condor_submit_dag as the pool's unprivileged user, waited for (bounded), then checked:
# DAGMan exited 0; every node DONE; the training node ran the published gwrepro-train (its epoch lines in its output)
# before both client nodes were submitted (jobstate log); it wrote version 101 of deepclean-h1 and deepclean-l1 (no
# hidden partial directory left) and the pinned ensemble gwe2e-deepclean-v101; every cleaned frame's provenance (its
# FrHistory record and the cleaned channel's comment) names deepclean-<ifo> version 101 and gwe2e-deepclean-v101; and
# the FINAL node's report exists.
#
#   condor/submit-training.sh [GWREPRO [TRAIN_DIR]]
#       GWREPRO: the self-contained gwrepro binary (default: dist/gwrepro)
#       TRAIN_DIR: the published gwrepro-train (default: dist/train; dotnet publish src/GwReprocess.Training -c Release -r linux-x64 -o dist/train)
#
# The training program is not transferred (train.sub: transfer_executable = false; it is about 600 MB): it is installed in
# the pool's chroot at /home/gwrepro/train, hard-linked from TRAIN_DIR when both are on one filesystem (else copied), and
# the workflow names it ([training] program). Debian sid's libstdc++ has the GLIBCXX_3.4.32 TorchSharp needs, so it runs
# there as it is (no --root). Env: GWREPRO_DEMO_TIMEOUT (seconds to wait for the DAG, default 600), GWREPRO_KEEP_POOL=1.
# Needs root (the chroot); the pool is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pool="$here/personal-pool.sh"
gwrepro=${1:-$repo/dist/gwrepro}
train=${2:-$repo/dist/train}
timeout=${GWREPRO_DEMO_TIMEOUT:-600}
[ -x "$gwrepro" ] || { echo "submit-training: $gwrepro is not an executable gwrepro (publish it: dotnet publish src/GwReprocess.Cli -c Release -r linux-x64 -o dist)" >&2; exit 2; }
[ -x "$train/gwrepro-train" ] || { echo "submit-training: $train/gwrepro-train is missing (publish it: dotnet publish src/GwReprocess.Training -c Release -r linux-x64 -o dist/train)" >&2; exit 2; }
[ -f "$repo/model-repository/gwe2e-deepclean/config.pbtxt" ] || { echo "submit-training: $repo/model-repository has no gwe2e-deepclean (the demo's DeepClean ensemble)" >&2; exit 2; }

log() { printf '[submit-training %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
started=$(date +%s)

"$pool" build
root=$("$pool" path)
cleanup() { [ "${GWREPRO_KEEP_POOL:-0}" = 1 ] || "$pool" stop; }
trap cleanup EXIT
"$pool" start

home=/home/gwrepro
bin=$home/bin/gwrepro
tdir=$home/train
dir=$home/ci-train
version=101
rm -rf "$root$dir" "$root$tdir"
mkdir -p "$root$home/bin" "$root$dir"
cp "$gwrepro" "$root$bin"
# Hard links cost nothing; the files stay root's and read-only to the pool's user, which only runs them.
cp -al "$train" "$root$tdir" 2>/dev/null || { rm -rf "$root$tdir"; cp -a "$train" "$root$tdir"; }
cp "$here/ci-train.toml" "$root$dir/workflow.toml"
cp -a "$repo/model-repository" "$root$dir/model-repository"
chroot "$root" chown -R gwrepro:gwrepro "$home/bin" "$dir"
in_pool() { "$pool" run sh -c "cd $dir && $*"; }

log "gwrepro-train in the pool: $(in_pool "$tdir/gwrepro-train --version")"
log "simulating the data (gwrepro run --prepare-only; the copied repository is used as it is)"
in_pool "$bin run workflow.toml --out . --prepare-only -q"
log "writing the run directory (gwrepro dag)"
in_pool "$bin dag workflow.toml --out . --executable $bin" >&2
log "submitting (condor_submit_dag)"
in_pool "condor_submit_dag -batch-name ci-train reprocess.dag" >&2

out="$root$dir/reprocess.dag.dagman.out"
deadline=$(( $(date +%s) + timeout ))
until [ -f "$out" ] && grep -q "EXITING WITH STATUS" "$out"; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "FAIL: the DAG did not finish in ${timeout} s"
    in_pool "condor_q -nobatch" >&2 || true
    [ -f "$out" ] && tail -n 40 "$out" >&2
    in_pool "condor_rm -all" >/dev/null 2>&1 || true
    for f in "$root$dir"/logs/*; do [ -s "$f" ] && { echo "--- ${f#$root}"; tail -n 15 "$f"; } >&2; done
    exit 1
  fi
  sleep 3
done
fail=0
ok() { log "ok   $*"; }
bad() { log "FAIL $*"; fail=1; }
status=$(grep -o "EXITING WITH STATUS [0-9]*" "$out" | tail -n 1 | awk '{print $4}')
if [ "$status" = 0 ]; then ok "DAGMan exited with status 0"; else bad "DAGMan exited with status $status"; fi

statusfile="$root$dir/reprocess.status"
nodes=$(grep -c 'Type = "NodeStatus"' "$statusfile" 2>/dev/null || true)
notdone=$(awk '/Type = "NodeStatus"/ {n=1} n && /^ *Node = / {name=$3} n && /^ *NodeStatus = / {if ($3 != "5;" && $3 != "5") print name; n=0}' "$statusfile" 2>/dev/null | tr -d '";' | tr '\n' ' ')
if [ "${nodes:-0}" -gt 0 ] && [ -z "$notdone" ]; then ok "all $nodes node(s) DONE in reprocess.status"; else bad "nodes not DONE: ${notdone:-no node status file}"; fi

# The training node: one per the DAG, run by the pool before its children.
node=$(awk '$1 == "JOB" && $3 == "train.sub" {print $2}' "$root$dir/reprocess.dag")
jobstate="$root$dir/reprocess.jobstate.log"
if [ "$(echo "$node" | wc -w)" = 1 ]; then ok "one training node in the DAG: $node"; else bad "expected one training node, found: ${node:-none}"; fi
trained=$(awk -v n="$node" '$2 == n && $3 == "JOB_SUCCESS" {print NR; exit}' "$jobstate")
first_client=$(awk '$2 ~ /^clean_/ && $3 == "SUBMIT" {print NR; exit}' "$jobstate")
if [ -n "$trained" ] && [ -n "$first_client" ] && [ "$trained" -lt "$first_client" ]; then ok "$node succeeded before the first client node was submitted (jobstate log)"
else bad "$node did not succeed before the client nodes were submitted (JOB_SUCCESS line ${trained:-none}, first client SUBMIT line ${first_client:-none})"; fi
tout=$(ls "$root$dir"/logs/"$node".*.out 2>/dev/null | tail -n 1)
if [ -n "$tout" ] && grep -q "epoch 2/2: train loss" "$tout" && grep -q "wrote model-repository/deepclean-l1/$version" "$tout"; then
  ok "the training node ran gwrepro-train: $(grep -c ' epoch ' "$tout") epoch line(s); $(grep -h 'version '"$version"': trained on' "$tout" | tr '\n' ' ')"
  grep -E "epoch|wrote|trained on" "$tout" >&2
else bad "the training node's output ${tout:-(none)} lacks gwrepro-train's epoch and write lines"; fi
# The demo's ensemble sums the Wiener estimate and DeepClean's: the new versions must learn what the Wiener cleaners leave.
if [ -n "$tout" ] && grep -q "adds DeepClean's estimate to its Wiener cleaners' (noise-sum): training on what they leave" "$tout"; then ok "the training node trained on the Wiener cleaners' residual, as the summing ensemble uses it"
else bad "the training node did not train on the Wiener cleaners' residual (the pinned ensemble sums both estimates)"; fi

# What it wrote into the repository the server polls.
r="$root$dir/model-repository"
for ifo in h1 l1; do
  if [ -s "$r/deepclean-$ifo/$version/model.onnx" ]; then ok "deepclean-$ifo/$version/model.onnx ($(stat -c %s "$r/deepclean-$ifo/$version/model.onnx") bytes)"; else bad "no deepclean-$ifo/$version/model.onnx"; fi
  left=$(find "$r/deepclean-$ifo" -maxdepth 1 -name '.partial-*' | wc -l)
  [ "$left" -eq 0 ] || bad "$left hidden partial version(s) left in deepclean-$ifo"
done
pinned="$r/gwe2e-deepclean-v$version/config.pbtxt"
if [ -f "$pinned" ] && [ "$(grep -A1 'model_name: "deepclean-' "$pinned" | grep -c "model_version: $version")" = 2 ]; then ok "gwe2e-deepclean-v$version pins deepclean-h1 and deepclean-l1 to version $version"
else bad "gwe2e-deepclean-v$version is missing or does not pin both cleaners to version $version"; fi
if grep -hs "loaded model 'deepclean-h1' version $version" "$root$dir"/logs/server_0.* >&2; then ok "the polling server loaded the new version"; else bad "the server never logged loading deepclean-h1 version $version"; fi

# Every cleaned frame names the trained version in its provenance: the FrHistory record and the cleaned channel's comment.
frames=0
for f in "$root$dir"/out/cleaned/*/*.gwf; do
  [ -e "$f" ] || continue
  frames=$((frames + 1))
  ifo=$(basename "$(dirname "$f")" | tr 'A-Z' 'a-z')
  info=$(in_pool "$bin frames info ${f#$root$dir/}")
  # The demo's ensemble adds the Wiener cleaner's estimate and DeepClean's: "wiener-<ifo> version 1 plus deepclean-<ifo> version K (summed by ...)".
  want="noise estimate of wiener-$ifo version 1 plus deepclean-$ifo version $version (summed by noise-sum version 1) (ensemble gwe2e-deepclean-v$version"
  hist=$(printf '%s\n' "$info" | grep '^history: ' | grep -cF "$want" || true)
  # The channel's comment reads "... <model text> band-passed to ...", the history record "... <model text>, band-passed to ...".
  comment=$(grep -acF "$want version 1) band-passed" "$f" || true)
  if [ "$hist" -ge 1 ] && [ "$comment" -ge 1 ]; then :; else bad "${f#$root$dir/}: provenance does not name deepclean-$ifo version $version (history lines $hist, channel comment $comment)"; printf '%s\n' "$info" | grep -i "history" >&2 || true; fi
done
if [ "$frames" -eq 4 ] && [ "$fail" -eq 0 ]; then ok "all $frames cleaned frames name deepclean-<ifo> version $version and gwe2e-deepclean-v$version in their history record and channel comment: $(in_pool "$bin frames info out/cleaned/H1/$(ls "$root$dir/out/cleaned/H1" | grep gwf | head -n 1)" | grep -m1 '^history:')"
elif [ "$frames" -ne 4 ]; then bad "expected 4 cleaned frames (2 jobs x H1, L1), found $frames"; fi
if [ -s "$root$dir/report/report.html" ]; then ok "the FINAL node wrote the report"; else bad "no report/report.html"; fi

if [ "$fail" -ne 0 ]; then
  log "logs of the nodes:"
  for f in "$root$dir"/logs/*; do [ -s "$f" ] && { echo "--- ${f#$root}"; tail -n 15 "$f"; } >&2; done
fi
log "finished in $(( $(date +%s) - started )) s"
exit $fail
