#!/usr/bin/env bash
# Build debian:<release>-slim locally where no image registry is reachable, so that every Dockerfile under
# compose/ (FROM debian:${DEBIAN_RELEASE}-slim) builds unchanged. On a machine that can pull, you do not need this.
# One base per resolver generation (testbed/resolvers/generations.py): bookworm (debian12), trixie (debian13).
# Usage: compose/base/build-base.sh [RELEASE] [--force]      RELEASE: bookworm (default) or trixie
# After --force, rebuild the lab images on the new base too: testbed images build --force
set -euo pipefail
RELEASE=bookworm
FORCE=no
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=yes ;;
        bookworm|trixie) RELEASE=$arg ;;
        *) echo "unknown argument $arg: use bookworm or trixie, and optionally --force" >&2; exit 2 ;;
    esac
done
IMAGE=debian:$RELEASE-slim
if [ "$FORCE" != yes ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "$IMAGE already present"; exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }
dir=$(mktemp -d /tmp/testbed-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# minbase: apt, dpkg and essentials only, like the official slim image
debootstrap --variant=minbase "$RELEASE" "$dir" >/dev/null || {
    echo "debootstrap of $RELEASE failed (log: $dir/debootstrap/debootstrap.log); retry with:" \
         "compose/base/build-base.sh $RELEASE --force" >&2
    trap - EXIT; exit 2; }
# Like the official image: the point-release updates and the security archive too, not just the release as
# debootstrap leaves it. Without them the lab images got older resolvers than this machine's (BIND 9.18.49
# deb12u1 rather than deb12u3, which validate some faults differently). The security archive sits beside the
# mirror debootstrap chose, so its address is derived from that line rather than written here.
mirror=$(awk '$1 == "deb" {print $2; exit}' "$dir/etc/apt/sources.list")
[ -n "$mirror" ] || { echo "debootstrap wrote no apt source line" >&2; exit 2; }
cat > "$dir/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $RELEASE $RELEASE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/}-security
Suites: $RELEASE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -f "$dir/etc/apt/sources.list"
# slim-image conventions: no docs or caches, apt without recommends
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$dir/etc/apt/apt.conf.d/99testbed-slim"
tar -C "$dir" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
echo "built $IMAGE"
