#!/usr/bin/env bash
# Stops the dockerd that ensure-docker.sh started, and no other.
set -euo pipefail

pidfile="${TMPDIR:-/tmp}/berth-dockerd.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
root=()
[ "$(id -u)" -eq 0 ] || root=(sudo -n)

running() {
  [ -d "/proc/$pid" ] && ! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null
}

# The pid may belong to another process by now: signal it only if it is still a dockerd.
if running && grep -qa dockerd "/proc/$pid/cmdline"; then
  "${root[@]}" kill -TERM "$pid"
  for _ in $(seq 30); do
    running || break
    sleep 1
  done
  if running; then
    echo "stop-docker: dockerd $pid still runs after 30 s; killing it" >&2
    "${root[@]}" kill -KILL "$pid"
  fi
fi
rm -f "$pidfile"
