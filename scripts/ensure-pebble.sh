#!/usr/bin/env bash
# Makes sure Debian's pebble (Let's Encrypt's ACME test server, with pebble-challtestsrv) is
# installed, as the ACME integration tests need; prints nothing when it is already there.
set -euo pipefail
who=pebble
source "$(dirname "$0")/lib/apt.sh"

installed() {
  [ -x /usr/bin/pebble ] && [ -x /usr/bin/pebble-challtestsrv ]
}

installed && exit 0
install_packages pebble
installed || fail "pebble was installed but /usr/bin/pebble or /usr/bin/pebble-challtestsrv is missing; see $apt_log"
