#!/usr/bin/env bash
# Runs a real HTCondor (Debian sid's `condor` package) on this Debian 12 machine, inside a chroot,
# as a personal pool on loopback, so generated DAGs and submit files meet the real tools.
#
#   condor/personal-pool.sh build            build (or reuse) the cached chroot
#   condor/personal-pool.sh start            start condor_master in it (loopback only)
#   condor/personal-pool.sh run CMD...       run a command inside the chroot as the pool's user
#   condor/personal-pool.sh stop             stop the pool and unmount
#
# Bookworm has no HTCondor package and sid's needs a newer libc, hence the chroot. It is cached
# outside the work tree (GWREPRO_CONDOR_CHROOT, default /var/cache/gwrepro/htcondor-sid), so a rerun
# costs seconds. Needs root (debootstrap, mounts). The mount-namespace and PID-namespace features
# are switched off because this sandbox forbids them.
set -euo pipefail

root=${GWREPRO_CONDOR_CHROOT:-/var/cache/gwrepro/htcondor-sid}
mirror=${GWREPRO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
user=gwrepro

log() { printf '[personal-pool %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

in_chroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

build() {
  if [ -x "$root/usr/bin/condor_submit_dag" ] && [ -f "$root/.gwrepro-ready" ]; then
    log "reusing $root ($(in_chroot condor_version | head -n 1))"
    return
  fi
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
  if [ ! -x "$root/usr/bin/apt-get" ]; then
    log "debootstrap sid into $root (a few minutes)"
    rm -rf "$root"; mkdir -p "$root"
    debootstrap --variant=minbase sid "$root" "$mirror" >/dev/null
  fi
  mounts
  # The mirror's Release files can be past Valid-Until relative to this machine's clock.
  log "installing condor + minicondor in the chroot"
  in_chroot apt-get -o Acquire::Check-Valid-Until=false -qq update
  DEBIAN_FRONTEND=noninteractive in_chroot apt-get -o Acquire::Check-Valid-Until=false install -y -qq --no-install-recommends minicondor condor >/dev/null
  in_chroot id -u "$user" >/dev/null 2>&1 || in_chroot useradd -m "$user"
  cat > "$root/etc/condor/config.d/99-gwrepro.conf" <<'CONF'
# Personal pool on loopback inside a sandbox without mount or PID namespaces.
NETWORK_INTERFACE = 127.0.0.1
CONDOR_HOST = 127.0.0.1
MOUNT_UNDER_SCRATCH =
USE_PID_NAMESPACES = False
DISCARD_SESSION_KEYRING_ON_STARTUP = False
NUM_CPUS = 4
MEMORY = 8192
SCHEDD_INTERVAL = 5
NEGOTIATOR_INTERVAL = 5
NEGOTIATOR_CYCLE_DELAY = 5
STARTER_UPDATE_INTERVAL = 5
DAGMAN_USER_LOG_SCAN_INTERVAL = 1
CONF
  grep -q "$(hostname)" "$root/etc/hosts" 2>/dev/null || echo "127.0.0.1 $(hostname)" >> "$root/etc/hosts"
  touch "$root/.gwrepro-ready"
  log "ready: $(in_chroot condor_version | head -n 1)"
}

mounts() {
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/sys" || mount -t sysfs sys "$root/sys"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
  mountpoint -q "$root/dev/pts" || mount -t devpts devpts "$root/dev/pts" 2>/dev/null || true
}

start() {
  build
  mounts
  if [ -f "$root/run/gwrepro-condor_master.pid" ] && kill -0 "$(cat "$root/run/gwrepro-condor_master.pid")" 2>/dev/null; then log "pool already running"; return; fi
  # condor_master daemonizes; its pid file lets stop() end exactly the processes this script started.
  in_chroot condor_master -pidfile /run/gwrepro-condor_master.pid
  for _ in $(seq 1 60); do
    if in_chroot condor_status -schedd -af Name 2>/dev/null | grep -q .; then log "pool up"; return; fi
    sleep 2
  done
  log "pool did not come up in 120 s"; in_chroot sh -c 'tail -n 30 /var/log/condor/MasterLog' >&2 || true
  exit 1
}

# Processes whose root directory is the chroot (the pool's daemons and their children).
chroot_pids() {
  local p pids="" real
  real=$(readlink -f "$root")
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$real" ] && pids="$pids ${p#/proc/}"
  done
  echo "${pids# }"
}

stop() {
  local pidfile="$root/run/gwrepro-condor_master.pid" pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  in_chroot condor_off -master >/dev/null 2>&1 || true
  # condor_off asks the master to shut its daemons down and exit; kill it (by its pid) only if it does not.
  if [ -n "$pid" ]; then
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "condor_master $pid still running after 30 s: SIGTERM"; kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
  # The master can exit before its daemons (shared_port, collector) have closed port 9618; a pool started right after
  # would then fail to bind it. Wait for every process running in the chroot to be gone.
  local left
  for _ in $(seq 1 30); do
    left=$(chroot_pids)
    [ -z "$left" ] && break
    sleep 1
  done
  if [ -n "$left" ]; then log "still running in the chroot after 30 s: $left: SIGKILL"; kill -KILL $left 2>/dev/null || true; sleep 1; fi
  for m in dev/pts dev sys proc; do mountpoint -q "$root/$m" && umount -l "$root/$m" || true; done
  log "stopped"
}

run() { mounts; chroot --userspec="$user:$user" "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/$user LANG=C.UTF-8 "$@"; }

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  run) shift; run "$@" ;;
  path) echo "$root" ;;
  *) echo "usage: $0 build|start|run CMD...|stop|path" >&2; exit 2 ;;
esac
