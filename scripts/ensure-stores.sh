#!/usr/bin/env bash
# Makes sure Debian's redis-server and etcd are installed, as the store tests need (the tests
# start their own servers on loopback ports); prints nothing when they are already there.
set -euo pipefail
who=stores
source "$(dirname "$0")/lib/apt.sh"

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v etcd >/dev/null || missing+=(etcd-server)
[ ${#missing[@]} -eq 0 ] && exit 0
install_packages "${missing[@]}"
command -v redis-server >/dev/null && command -v etcd >/dev/null || fail "redis-server or etcd is still missing after apt-get; see $apt_log"
