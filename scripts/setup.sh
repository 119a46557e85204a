#!/usr/bin/env bash
# Set up dnssec-testbed on Debian 12: system packages, a virtualenv in .venv with the package and its test
# extras. Run as root. Idempotent: a second run only checks.
#   scripts/setup.sh            netns backend (resolvers and tools from Debian)
#   scripts/setup.sh --docker   also the Docker engine, the local base image and the lab images
set -euo pipefail
cd "$(dirname "$0")/.."
want_docker=no
[ "${1:-}" = "--docker" ] && want_docker=yes

if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup.sh installs Debian packages and needs root: run it with sudo" >&2
    exit 2
fi

packages=(
    python3 python3-venv python3-pip iproute2      # the harness and the netns backend
    unbound bind9 knot-resolver pdns-recursor      # the four resolvers, run directly by the netns backend
    nsd knot                                       # real authoritative servers (--auth nsd|knot; bind9 above)
    ldnsutils bind9-utils bind9-dnsutils           # independent zone verifiers for the tests; dig, delv
    tcpdump                                        # the no-leak test captures every packet the resolvers send
    chromium                                       # renders the HTML matrix in the screenshot test
    graphviz                                       # draws the chain of trust in the HTML report (dot)
    gcc libc6-dev                                  # builds the virtual-clock time shim
    knot-dnssecutils                               # kzonesign, a reference signer in bench/bench_scale.py
)
[ "$want_docker" = yes ] && packages+=(docker.io docker-compose debootstrap)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    # packages must not start their own daemons (they would hold port 53 or query the real root)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# On a host that runs systemd, the packages' own resolver services would answer on this machine's port 53 with
# the real root key and hints. The test-bed starts its own copies inside labs; keep the system ones off.
if [ -d /run/systemd/system ]; then
    systemctl disable --now unbound named pdns-recursor kresd@1 nsd knot >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
# the virtual clock's time shim for resolvers, compiled once per source version
.venv/bin/testbed timeshim build >/dev/null

if [ "$want_docker" = yes ]; then
    if ! docker info >/dev/null 2>&1; then
        echo "starting dockerd"
        nohup dockerd >/var/log/testbed-dockerd.log 2>&1 &
        for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
        docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/testbed-dockerd.log" >&2; exit 2; }
    fi
    # one base per resolver generation: debian12 (bookworm) and debian13 (trixie)
    for release in bookworm trixie; do
        docker image inspect "debian:$release-slim" >/dev/null 2>&1 || docker pull "debian:$release-slim" \
            || compose/base/build-base.sh "$release"
    done
    .venv/bin/testbed images build --generation all
fi
echo "setup done: .venv/bin/testbed is ready"
