#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium, as the dashboard's browser test needs;
# prints nothing when it is already there.
set -euo pipefail
who=chromium
source "$(dirname "$0")/lib/apt.sh"
browser=/usr/bin/chromium

browser_runs() {
  [ -x "$browser" ] && "$browser" --version >/dev/null 2>&1
}

browser_runs && exit 0
install_packages chromium
browser_runs || fail "chromium was installed but $browser does not run; see $apt_log"
