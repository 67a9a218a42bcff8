#!/usr/bin/env bash
# Makes sure Debian's pebble (Let's Encrypt's ACME test server, with pebble-challtestsrv) is
# installed, as the ACME integration tests need. Installs it with apt-get when it is missing;
# prints nothing when it is already there.
set -euo pipefail

apt_log="${TMPDIR:-/tmp}/berth-apt-pebble.log"
root=()

fail() {
  echo "ensure-pebble: $*" >&2
  exit 1
}

installed() {
  [ -x /usr/bin/pebble ] && [ -x /usr/bin/pebble-challtestsrv ]
}

installed && exit 0

if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "pebble is missing and installing Debian's pebble needs root; run as root or with passwordless sudo, or: apt-get install pebble"
  root=(sudo -n)
fi

echo "ensure-pebble: installing pebble with apt-get (log: $apt_log)" >&2
{
  "${root[@]}" apt-get update &&
    "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pebble
} </dev/null >"$apt_log" 2>&1 || fail "apt-get could not install pebble; see $apt_log"

installed || fail "pebble was installed but /usr/bin/pebble or /usr/bin/pebble-challtestsrv is missing; see $apt_log"
