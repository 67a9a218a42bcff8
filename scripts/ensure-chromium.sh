#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium, as the dashboard's browser test needs.
# Installs it with apt-get when it is missing; prints nothing when it is already there.
set -euo pipefail

browser=/usr/bin/chromium
apt_log="${TMPDIR:-/tmp}/berth-apt-chromium.log"
root=()

fail() {
  echo "ensure-chromium: $*" >&2
  exit 1
}

browser_runs() {
  [ -x "$browser" ] && "$browser" --version >/dev/null 2>&1
}

browser_runs && exit 0

if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "$browser is missing and installing Debian's chromium needs root; run as root or with passwordless sudo, or: apt-get install chromium"
  root=(sudo -n)
fi

echo "ensure-chromium: installing chromium with apt-get (log: $apt_log)" >&2
{
  "${root[@]}" apt-get update &&
    "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
} </dev/null >"$apt_log" 2>&1 || fail "apt-get could not install chromium; see $apt_log"

browser_runs || fail "chromium was installed but $browser does not run; see $apt_log"
