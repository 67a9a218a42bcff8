#!/usr/bin/env bash
# Makes sure a Docker engine answers and a static /bin/busybox exists, as the integration tests need.
# Installs docker.io / busybox-static with apt-get and starts dockerd when they are missing.
set -euo pipefail

state_dir="${TMPDIR:-/tmp}"
pidfile="$state_dir/berth-dockerd.pid" # present only while a dockerd started by this script runs
logfile="$state_dir/berth-dockerd.log"
engine="${DOCKER_HOST:-unix:///var/run/docker.sock}"
who=docker
source "$(dirname "$0")/lib/apt.sh"

engine_answers() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1
}

busybox_is_static() {
  local out
  out=$(LC_ALL=C ldd /bin/busybox 2>&1 || true)
  [ -x /bin/busybox ] && [[ $out == *"not a dynamic executable"* || $out == *"statically linked"* ]]
}

start_dockerd() {
  need_root "starting dockerd"
  echo "ensure-docker: starting dockerd (log: $logfile)" >&2
  # setsid: a Ctrl-C on the test run must not take the engine down with it.
  "${root[@]}" setsid dockerd </dev/null >"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 60); do
    engine_answers && return 0
    [ -d "/proc/$pid" ] || { tail -n 5 "$logfile" >&2; fail "dockerd exited at start; see $logfile"; }
    sleep 1
  done
  fail "dockerd started but no engine answers at $engine after 60 s; see $logfile"
}

missing=()
busybox_is_static || missing+=(busybox-static)
if ! engine_answers; then
  # An engine chosen with DOCKER_HOST is not ours to start.
  [ -z "${DOCKER_HOST:-}" ] || fail "no Docker engine answers at $DOCKER_HOST; start it, or unset DOCKER_HOST to use a local dockerd"
  command -v dockerd >/dev/null && command -v docker >/dev/null || missing+=(docker.io)
fi
[ ${#missing[@]} -eq 0 ] || install_packages --recommends "${missing[@]}"

busybox_is_static || fail "/bin/busybox is missing or not static; install Debian's busybox-static"
if ! engine_answers; then
  command -v dockerd >/dev/null || fail "no dockerd after installing docker.io; install docker.io and start dockerd, or set DOCKER_HOST"
  start_dockerd
fi

echo "ensure-docker: using Docker engine $(docker version -f '{{.Server.Version}}') at $engine"
