# Sourced by the ensure-* scripts: install Debian packages with apt-get, as root or through
# passwordless sudo, logging to one file per caller. Set `who` before sourcing.
apt_log="${TMPDIR:-/tmp}/berth-apt-${who}.log"
root=()

fail() {
  echo "ensure-${who}: $*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  sudo -n true 2>/dev/null || fail "$1 needs root; run as root or with passwordless sudo"
  root=(sudo -n)
}

# install_packages [--recommends] package...
install_packages() {
  local recommends=(--no-install-recommends)
  if [ "${1:-}" = --recommends ]; then recommends=(); shift; fi
  need_root "installing $* (apt-get install $*)"
  echo "ensure-${who}: installing $* with apt-get (log: $apt_log)" >&2
  {
    "${root[@]}" apt-get update &&
      "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${recommends[@]}" "$@"
  } </dev/null >"$apt_log" 2>&1 || fail "apt-get could not install $*; see $apt_log"
}
