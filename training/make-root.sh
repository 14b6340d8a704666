#!/usr/bin/env bash
# Makes (or reuses) the training root: a minimal Debian trixie tree that gwrepro-train runs in with
# `--root DIR` on hosts whose libstdc++ is older than TorchSharp's glue library needs (GLIBCXX_3.4.32,
# GCC 13; Debian 12 ships 3.4.30). Nothing on the host is replaced: gwrepro-train enters the root in a
# private mount namespace (the host's /proc, /dev, /sys and the directories it reads and writes are
# bound in there) and the mounts vanish when it exits.
#
#   training/make-root.sh [DIR]      default DIR: $GWREPRO_TRAINING_ROOT or /var/cache/gwrepro/training-trixie
#
# Needs root (debootstrap). Takes a minute or two the first time; a rerun returns at once.
set -euo pipefail
root=${1:-${GWREPRO_TRAINING_ROOT:-/var/cache/gwrepro/training-trixie}}
mirror=${GWREPRO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { printf '[training-root %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ -f "$root/.gwrepro-training-ready" ]; then
  log "reusing $root"
  exit 0
fi
command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
log "debootstrap trixie (minbase) into $root"
rm -rf "$root"; mkdir -p "$root"
debootstrap --variant=minbase trixie "$root" "$mirror" >/dev/null
# The check gwrepro-train itself makes on a host: the root's libstdc++ must carry the version tag.
grep -q GLIBCXX_3.4.32 "$root/usr/lib/x86_64-linux-gnu/libstdc++.so.6" || { log "$root: libstdc++ lacks GLIBCXX_3.4.32"; exit 1; }
touch "$root/.gwrepro-training-ready"
log "ready: $root"
