#!/usr/bin/env bash
# Build debian:bookworm-slim locally where no image registry is reachable, so that every Dockerfile under
# compose/ (FROM debian:bookworm-slim) builds unchanged. On a machine that can pull, you do not need this.
# Usage: compose/base/build-base.sh [--force]
set -euo pipefail
IMAGE=debian:bookworm-slim
if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "$IMAGE already present"; exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }
dir=$(mktemp -d /tmp/testbed-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# minbase: apt, dpkg and essentials only, like the official slim image
debootstrap --variant=minbase bookworm "$dir" >/dev/null
# slim-image conventions: no docs or caches, apt without recommends
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$dir/etc/apt/apt.conf.d/99testbed-slim"
tar -C "$dir" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
echo "built $IMAGE"
