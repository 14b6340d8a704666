#!/usr/bin/env bash
# Checks what `gwrepro dag` writes against real HTCondor: condor_dag_checker on every DAG and
# condor_submit -dry-run on every submit file, for each shipped workflow and the golden test run.
# Uses the personal-pool chroot (condor/personal-pool.sh); no daemons are needed for these checks.
#
#   condor/validate-generated.sh [GWREPRO_COMMAND...]     (default: dotnet <built gwrepro.dll>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pool="$here/personal-pool.sh"
"$pool" build
root=$("$pool" path)

if [ "$#" -gt 0 ]; then gwrepro=("$@"); else gwrepro=(dotnet "$repo/src/GwReprocess.Cli/bin/Release/net10.0/gwrepro.dll"); fi
work="$root/home/gwrepro/validate"
rm -rf "$work"; mkdir -p "$work"
fail=0
declare -a runs=()
for wf in "$repo"/workflows/*.toml "$repo"/tests/data/workflow/ldg/workflow.toml; do
  name=$(basename "$(dirname "$wf")")-$(basename "$wf" .toml)
  # Segment and cache files named by the examples live on the user's machine; plan without them
  # by giving the examples' own span, which is what --dry-run style checks need.
  if ! "${gwrepro[@]}" dag "$wf" --out "$work/$name" --executable /usr/bin/true --no-resume -q >"$work/$name.log" 2>&1; then
    if grep -q "no such" "$work/$name.log"; then echo "skip $name: $(tail -n 1 "$work/$name.log")"; continue; fi
    echo "FAIL $name: gwrepro dag failed"; cat "$work/$name.log"; fail=1; continue
  fi
  runs+=("$name")
done
# The golden run again with TLS and a bearer token for its server nodes: the certificate, key, CA and token files are
# copied into the run directory and named in transfer_input_files, which condor_submit checks exist.
tls="$work/ldg-tls-src"
cp -r "$repo/tests/data/workflow/ldg" "$tls"
mkdir -p "$tls/secrets"
for f in server.pem server.key ca.pem token; do printf 'placeholder\n' > "$tls/secrets/$f"; done
sed -i '/^\[inference\]/a tls_cert = "secrets/server.pem"\ntls_key = "secrets/server.key"\ntls_ca = "secrets/ca.pem"\ntoken_file = "secrets/token"' "$tls/workflow.toml"
if "${gwrepro[@]}" dag "$tls/workflow.toml" --out "$work/ldg-tls" --executable /usr/bin/true --no-resume -q >"$work/ldg-tls.log" 2>&1; then
  runs+=("ldg-tls")
else
  echo "FAIL ldg-tls: gwrepro dag failed"; cat "$work/ldg-tls.log"; fail=1
fi
# The golden run again with [training]: a training node (train.sub) per chunk before its clients, each client asking
# for its chunk's pinned ensemble, the servers polling the repository.
train="$work/ldg-training-src"
cp -r "$repo/tests/data/workflow/ldg" "$train"
printf '\n[training]\nprogram = "/usr/bin/true"\nseed = 7\narguments = ["--stride", "1", "--report", "training report"]\n' >> "$train/workflow.toml"
if "${gwrepro[@]}" dag "$train/workflow.toml" --out "$work/ldg-training" --executable /usr/bin/true --no-resume -q >"$work/ldg-training.log" 2>&1; then
  runs+=("ldg-training")
  if ! grep -q '^PARENT train_' "$work/ldg-training/reprocess.dag"; then echo "FAIL ldg-training: no training node in reprocess.dag"; fail=1; fi
else
  echo "FAIL ldg-training: gwrepro dag failed"; cat "$work/ldg-training.log"; fail=1
fi
# The golden run again on a transferring site (hepcloud: should_transfer_files = YES) with its cache in a folder: the
# client and training jobs are sent caches/frames.lcf under that path (preserve_relative_paths), the copy gwrepro dag
# puts in the run directory (condor_submit -dry-run does not look for it).
xfer="$work/ldg-transfer-src"
cp -r "$repo/tests/data/workflow/ldg" "$xfer"
mkdir -p "$xfer/caches"; mv "$xfer/frames.lcf" "$xfer/caches/frames.lcf"
sed -i 's|^cache = "frames.lcf"|cache = "caches/frames.lcf"|; s|^profile = "ldg"|profile = "hepcloud"|' "$xfer/workflow.toml"
printf '\n[training]\nprogram = "/usr/bin/true"\n' >> "$xfer/workflow.toml"
sed -i 's|^model_repository = "model-repository"|model_repository = "s3://gwrepro-models/repository"|' "$xfer/workflow.toml"
if "${gwrepro[@]}" dag "$xfer/workflow.toml" --out "$work/ldg-transfer" --executable /usr/bin/true --no-resume -q >"$work/ldg-transfer.log" 2>&1; then
  runs+=("ldg-transfer")
  grep -q '^should_transfer_files *= YES$' "$work/ldg-transfer/client.sub" || { echo "FAIL ldg-transfer: client.sub does not transfer files (is the profile still hepcloud?)"; fail=1; }
  for sub in client.sub train.sub; do
    if ! grep -q '^transfer_input_files .*caches/frames.lcf' "$work/ldg-transfer/$sub" || ! grep -q '^preserve_relative_paths = true' "$work/ldg-transfer/$sub"; then
      echo "FAIL ldg-transfer: $sub does not send caches/frames.lcf under its path"; fail=1
    fi
  done
  [ -f "$work/ldg-transfer/caches/frames.lcf" ] || { echo "FAIL ldg-transfer: gwrepro dag did not copy caches/frames.lcf"; fail=1; }
else
  echo "FAIL ldg-transfer: gwrepro dag failed"; cat "$work/ldg-transfer.log"; fail=1
fi
chroot "$root" chown -R gwrepro:gwrepro /home/gwrepro/validate
for name in "${runs[@]}"; do
  dir=/home/gwrepro/validate/$name
  if out=$("$pool" run sh -c "cd $dir && condor_dag_checker -json reprocess.dag" 2>&1); then
    echo "ok   $name: condor_dag_checker ($(echo "$out" | tr -d '\n' | grep -o '"NumNodes"[^,]*' | head -n 1))"
  else
    echo "FAIL $name: condor_dag_checker"; echo "$out"; fail=1
  fi
  for sub in "$work/$name"/*.sub; do
    s=$(basename "$sub")
    # -dry-run parses the description and prints the job ad; macros DAGMan supplies are given here.
    if out=$("$pool" run sh -c "cd $dir && condor_submit -dry-run - -a 'jobname=clean_H1L1_1_1' -a 'server=server_0' -a 'JOB=node_x' -a 'RETRY=0' -a 'ensemble=gwe2e-v101' -a 'train_start=1238166018' -a 'train_end=1238166618' -a 'validation=150' -a 'version=101' $s" 2>&1); then
      args=$(echo "$out" | grep -m1 '^Arguments=' || true)
      # The client must receive its own job name, not DAGMan's node macro.
      if [ "$s" = client.sub ] && ! echo "$args" | grep -q -- '--job clean_H1L1_1_1 --server server_0'; then
        echo "FAIL $name/$s: condor_submit parsed $args"; fail=1; continue
      fi
      if [ "$s" = train.sub ] && ! echo "$args" | grep -q -- '--start 1238166018 --end 1238166618 --validation 150 --out [^ ]* --version 101'; then
        echo "FAIL $name/$s: condor_submit parsed $args"; fail=1; continue
      fi
      echo "ok   $name/$s ${args:+($args)}"
    else
      echo "FAIL $name/$s: condor_submit -dry-run"; echo "$out" | tail -n 5; fail=1
    fi
  done
done
# A job sent what the transferring run's client.sub sends (its transfer lines, on the pool's daemons) finds the workflow
# copy, jobs.csv and the cache in its sandbox, the cache under the path the workflow names.
if [[ " ${runs[*]} " == *" ldg-transfer "* ]]; then
  dir=/home/gwrepro/validate/ldg-transfer
  { grep -E '^(should_transfer_files|transfer_input_files|preserve_relative_paths|when_to_transfer_output|transfer_output_files) ' "$work/ldg-transfer/client.sub" || true
    printf '%s\n' 'universe = vanilla' 'executable = /bin/sh' "arguments = \"-c 'test -f workflow.toml && test -f jobs.csv && head -n 1 caches/frames.lcf'\"" \
      'output = sandbox.out' 'error = sandbox.err' 'log = sandbox.log' 'request_memory = 16MB' 'request_disk = 1MB' 'queue'
  } > "$work/ldg-transfer/sandbox.sub"
  chroot "$root" chown gwrepro:gwrepro "$dir/sandbox.sub"
  "$pool" start
  trap '"$pool" stop' EXIT
  if "$pool" run sh -c "cd $dir && condor_submit sandbox.sub >/dev/null && condor_wait -wait 120 sandbox.log >/dev/null" \
     && grep -q '(return value 0)' "$work/ldg-transfer/sandbox.log" \
     && [ "$(cat "$work/ldg-transfer/sandbox.out")" = "$(head -n 1 "$work/ldg-transfer/caches/frames.lcf")" ]; then
    echo "ok   ldg-transfer: a job sent client.sub's inputs reads caches/frames.lcf in its sandbox"
  else
    echo "FAIL ldg-transfer: a job sent client.sub's inputs did not find them in its sandbox"
    { cat "$work/ldg-transfer/sandbox.err" "$work/ldg-transfer/sandbox.log" 2>/dev/null || true; } | tail -n 20; fail=1
  fi
fi
exit $fail
