"""Nothing a resolver sends during the quickstart is addressed outside the lab subnet.

tcpdump listens on the lab's bridge (br0, in the switch namespace) from before the first host starts until after
the last check. A lab host has no default route, so a send to an outside address would fail inside the host
with ENETUNREACH and never reach the bridge: a capture alone could then never see a leak. Each resolver
namespace therefore gets a *bait* route: a default route via an unused lab address with a permanent, made-up
MAC, so an attempt to reach a real root (or anything outside) becomes a frame on br0 that the capture sees. The
bridge has no uplink, so such a frame still goes nowhere. A control packet to TEST-NET-1 (RFC 5737) at the end
proves the capture and the bait work: the test fails if it is not seen.
"""

from __future__ import annotations

import ipaddress
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testbed.lab.backends.netns import NetnsBackend
from testbed.lab.lab import Lab
from testbed.run.runner import LabPool, run
from tests.integration.test_resolvers_quickstart import available, quickstart

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")]

CONTROL_DESTINATION = "192.0.2.1"          # TEST-NET-1: documentation only, never routed anywhere
BAIT_HOST = 254                            # lab address nobody uses: the bait route's gateway
BAIT_MAC = "02:00:00:00:00:fe"             # locally administered, owned by no interface


@dataclass(frozen=True)
class Frame:
    kind: str                              # "ipv4", "arp", "ipv6", "other"
    src: str = ""
    dst: str = ""                          # IPv4 destination, or the address an ARP request asks for
    proto: int = 0
    dport: int = 0


def frames(pcap: bytes) -> Iterator[Frame]:
    """The frames of a classic pcap capture of an Ethernet link, reduced to what this test needs."""
    magic = pcap[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", pcap[20:24])[0]
    assert linktype == 1, f"expected an Ethernet capture, got link type {linktype}"
    offset = 24
    while offset + 16 <= len(pcap):
        caplen = struct.unpack(endian + "I", pcap[offset + 8:offset + 12])[0]
        data = pcap[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        ethertype, at = struct.unpack("!H", data[12:14])[0], 14
        if ethertype == 0x8100:            # a VLAN tag: never expected on our bridge, but do not misread it
            ethertype, at = struct.unpack("!H", data[16:18])[0], 18
        if ethertype == 0x0800:
            ihl = (data[at] & 0x0F) * 4
            proto = data[at + 9]
            dport = struct.unpack("!H", data[at + ihl + 2:at + ihl + 4])[0] if proto in (6, 17) else 0
            yield Frame("ipv4", str(ipaddress.IPv4Address(data[at + 12:at + 16])),
                        str(ipaddress.IPv4Address(data[at + 16:at + 20])), proto, dport)
        elif ethertype == 0x0806:
            yield Frame("arp", str(ipaddress.IPv4Address(data[at + 14:at + 18])),
                        str(ipaddress.IPv4Address(data[at + 24:at + 28])))
        elif ethertype == 0x86DD:
            yield Frame("ipv6")
        else:
            yield Frame("other")


def describe(frame: Frame) -> str:
    """A short label for the summary: queries by server, replies to the probe's ephemeral ports as one line."""
    if frame.kind == "arp":
        return f"arp who-has {frame.dst}"
    if frame.dport == 53:
        return f"{frame.dst}:53"
    proto = {1: "icmp", 6: "tcp", 17: "udp"}.get(frame.proto, f"proto {frame.proto}")
    return f"{frame.dst} {proto}" + (" (replies)" if frame.dport else "")


class BridgeCapture:
    """tcpdump on br0 of a lab's switch namespace, written to a pcap file; a condition wait, never a sleep."""

    def __init__(self, switch_ns: str, pcap: Path) -> None:
        self.pcap = pcap
        # -U: write each packet as it comes; -s 128: headers are all we read
        self.proc = subprocess.Popen(["ip", "netns", "exec", switch_ns, "tcpdump", "-i", "br0", "-n", "-U",
                                      "-s", "128", "-w", str(pcap)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.stderr = self._wait_for(b"listening on", timeout=10)

    def _wait_for(self, marker: bytes, timeout: float) -> bytes:
        assert self.proc.stderr is not None
        seen = b""
        deadline = time.monotonic() + timeout
        while marker not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"tcpdump did not start: {seen.decode(errors='replace')}")
            ready, _, _ = select.select([self.proc.stderr], [], [], left)
            if ready:
                seen += os.read(self.proc.stderr.fileno(), 4096)
        return seen

    def stop(self) -> str:
        """Stop tcpdump (it flushes and prints its counters on SIGTERM); returns what it said."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=10)
        return (self.stderr + err).decode(errors="replace")


def bait_resolver_namespaces(lab: Lab) -> None:
    """Give each resolver namespace the bait route as soon as the backend creates it, before the daemon starts."""
    backend = lab.backend
    assert isinstance(backend, NetnsBackend)
    resolvers = set(lab.topology.resolvers)
    gateway = lab.topology.address(BAIT_HOST)
    taken = {lab.topology.address(p.host) for p in lab.topology.resolvers.values()}
    taken |= {lab.topology.server_address(s) for s in lab.topology.servers} | {lab.topology.probe_address}
    assert gateway not in taken
    attach = backend._attach                 # the one place where a host's namespace comes to exist

    def attach_with_bait(host: str, address: str) -> str:
        ns = attach(host, address)
        if host in resolvers:
            for argv in (["ip", "-n", ns, "neigh", "replace", gateway, "lladdr", BAIT_MAC, "dev", "eth0",
                          "nud", "permanent"],
                         ["ip", "-n", ns, "route", "replace", "default", "via", gateway, "dev", "eth0"]):
                subprocess.run(argv, check=True, capture_output=True)
        return ns

    backend._attach = attach_with_bait       # type: ignore[method-assign]


def test_resolvers_send_nothing_outside_the_lab(tmp_path: Path) -> None:
    resolvers = available()
    if not resolvers:
        pytest.skip("no resolver installed")
    scenarios = quickstart()
    captures: list[BridgeCapture] = []
    labs: list[Lab] = []

    def on_lab(lab: Lab) -> None:
        assert isinstance(lab.backend, NetnsBackend)
        captures.append(BridgeCapture(lab.backend.switch, tmp_path / f"lab{len(labs)}.pcap"))
        bait_resolver_namespaces(lab)
        labs.append(lab)

    with LabPool("netns", resolvers, on_lab=on_lab) as pool:
        try:
            result = run(scenarios, resolvers, "netns", pool=pool)
            # the control packet: sent from a resolver's own namespace, exactly as a leaking daemon would
            first = labs[0].resolvers[resolvers[0]]
            rc, out = first.host.exec([sys.executable, "-c", "import socket; socket.socket(socket.AF_INET, "
                                       f"socket.SOCK_DGRAM).sendto(b'leak-check', ('{CONTROL_DESTINATION}', 53))"])
            assert rc == 0, out
            # a condition wait: the control frame is in the file once tcpdump has written it (-U)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(
                    f.dst == CONTROL_DESTINATION for f in frames(captures[0].pcap.read_bytes())):
                time.sleep(0.01)
        finally:
            said = [c.stop() for c in captures]
    assert len(result.verdicts) == len(resolvers) * sum(len(s.checks) for s in scenarios)
    assert all("0 packets dropped by kernel" in text for text in said), said

    subnet = ipaddress.IPv4Network(labs[0].topology.subnet)
    addresses = {labs[0].topology.resolver_address(r): r for r in resolvers}
    control_address = first.ctx.address
    sent: dict[str, Counter[str]] = {r: Counter() for r in resolvers}
    outside: list[str] = []
    other_kinds: Counter[str] = Counter()
    control_seen = False
    for lab_index, capture in enumerate(captures):
        for frame in frames(capture.pcap.read_bytes()):
            if frame.kind in ("ipv6", "other"):
                other_kinds[frame.kind] += 1
                continue
            if frame.src not in addresses:
                continue
            if (lab_index, frame.src, frame.dst) == (0, control_address, CONTROL_DESTINATION):
                control_seen = True
                continue
            resolver = addresses[frame.src]
            sent[resolver][describe(frame)] += 1
            if ipaddress.IPv4Address(frame.dst) not in subnet:
                outside.append(f"{resolver}: {frame}")

    print("\ndestinations per resolver (frames):")
    for resolver, counts in sent.items():
        print(f"  {resolver:8s} " + ", ".join(f"{k} x{n}" for k, n in sorted(counts.items())))
    assert control_seen, "the control packet to TEST-NET-1 was not captured: this test could not see a leak"
    assert not outside, "resolvers sent frames outside the lab subnet:\n" + "\n".join(sorted(set(outside)))
    assert not other_kinds, f"non-IPv4 frames on the lab bridge: {dict(other_kinds)}"
    for resolver, counts in sent.items():
        # every resolver really did talk to the lab's servers on port 53, or this test proved nothing about it
        assert any(label.endswith(":53") for label in counts), resolver
