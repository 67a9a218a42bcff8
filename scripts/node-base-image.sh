#!/usr/bin/env bash
# Assembles a Node.js base image from this machine's own files, with `docker import`, for
# machines that cannot pull from a registry:
#   - node, and the shared libraries (dynamic loader included) that ldd says it needs;
#   - npm (its whole folder, as installed here), with npm and npx on PATH;
#   - a static busybox as /bin/sh and the usual tools, so Dockerfile RUN steps work;
#   - the system CA bundle, named by NODE_EXTRA_CA_CERTS, so that npm inside a build reaches the
#     registry even through a TLS-inspecting proxy whose CA only this machine's bundle holds.
# Nothing else of this machine goes in: not ~/.npmrc nor the global npmrc (their settings, such
# as nodedir or cafile, point at host paths), not the npm cache.
#
# The layout mirrors the official node images (/usr/local/bin/node, user "node" with uid 1000),
# so a Dockerfile behaves the same on either:
#   docker build --build-arg NODE_IMAGE="$(bash scripts/node-base-image.sh)" -t berth .
#
# Prints the tag, berth-local/node:<node version> unless given as $1. The image carries a label
# with the hash of its content; when the tag already holds that content, nothing is rebuilt.
# Test images are derived from this one (test/support/images.ts): this script is their source.
set -euo pipefail

CONTENT_LABEL=org.berth.base-content
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
BUSYBOX=${BUSYBOX:-/bin/busybox}

fail() {
  echo "node-base-image: $*" >&2
  exit 1
}

for tool in docker ldd tar sha256sum node npm; do
  command -v "$tool" >/dev/null || fail "needs $tool on PATH"
done

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p 'process.versions.node')
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd -P)
[ "$("$node_bin" -p "require('$npm_dir/package.json').name" 2>/dev/null)" = npm ] ||
  fail "cannot find npm's folder (looked at $npm_dir)"
[ -r "$CA_BUNDLE" ] || fail "no CA bundle at $CA_BUNDLE (Debian: apt-get install ca-certificates; or set CA_BUNDLE)"
ldd_out=$(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true)
[[ -x $BUSYBOX && ($ldd_out == *"not a dynamic executable"* || $ldd_out == *"statically linked"*) ]] ||
  fail "$BUSYBOX is missing or not static (Debian: apt-get install busybox-static)"
tag=${1:-berth-local/node:$node_version}

# Absolute paths of the libraries node needs, kept at the paths ldd reports: the loader's path is
# baked into the binary.
ldd_node=$(LC_ALL=C ldd "$node_bin")
if grep -q 'not found' <<<"$ldd_node"; then fail "$node_bin lacks shared libraries: $(grep 'not found' <<<"$ldd_node")"; fi
mapfile -t libraries < <(grep -oE '/[^ ]+ \(0x[0-9a-f]+\)' <<<"$ldd_node" | cut -d' ' -f1)

changes=(
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "ENV NODE_VERSION=$node_version"
  "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"
  'CMD ["node"]'
)

# Everything that ends up in the image, this script included; where it was copied from does not count.
content_hash=$(
  {
    sha256sum "$0" "$node_bin" "$BUSYBOX" "$CA_BUNDLE" "${libraries[@]}" | cut -d' ' -f1
    printf '%s\n' "$node_version" "${libraries[@]}" "${changes[@]}"
    (cd "$npm_dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
)

if [ "$(docker image inspect -f "{{index .Config.Labels \"$CONTENT_LABEL\"}}" "$tag" 2>/dev/null)" = "$content_hash" ]; then
  echo "$tag"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-node-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc/ssl/certs,root,tmp,usr/bin,usr/local/bin,usr/local/lib/node_modules,home/node}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"

cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
ln -s /bin/busybox "$root/usr/bin/env" # npm's shebang is #!/usr/bin/env node

cp "$node_bin" "$root/usr/local/bin/node"
for lib in "${libraries[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF

owner=(--owner=0 --group=0)
if [ "$(id -u)" -eq 0 ]; then
  chown 1000:1000 "$root/home/node"
  owner=() # keep the owners set above: root everywhere, node on its home
fi
change_args=()
for change in "${changes[@]}" "LABEL $CONTENT_LABEL=$content_hash"; do change_args+=(--change "$change"); done
tar --numeric-owner "${owner[@]}" -C "$root" -cf - . | docker import "${change_args[@]}" - "$tag" >/dev/null
echo "$tag"
