"""Per-host network faults: delay, loss, a dead link, and UDP answers too large to arrive.

Every fault is applied *inside* the host's own network namespace through ``Host.exec``, so the same code serves
both backends: a netns host runs this machine's ``tc`` and ``ip`` under ``ip netns exec``, a docker host runs the
ones in its image (compose/*/Dockerfile install iproute2) and needs ``NET_ADMIN``
(``HostSpec(needs_net_admin=True)``; Docker grants capabilities only when a container is created).

Faults act on what the host *sends* on its one interface (eth0): a delayed server answers late, a lossy
server's answers go missing, ``udp_max`` drops the server's UDP answers above a size (as lost fragments would)
while TCP still works. They last until ``clear_netem``; labs are reused, so the next scenario must clear them.

How, and why this way. Packets are dropped by the qdisc, never by netfilter: a netfilter DROP of a locally sent
packet fails the sender's sendto() with EPERM, so a daemon would see an error at once where a real network
loses the packet silently (and our own test server even died of it). A qdisc drop is silent. The tree on eth0:

    htb 1: (default class 1:1)
      class 1:1  everything else          leaf: netem delay, when a delay is asked for
      class 1:2  the packets to lose      leaf: pfifo limit 0, which drops whatever it is given
    filters into 1:2: u32 for udp_max, classic BPF ("ld rand") for loss

It uses only htb, pfifo, u32 and cls_bpf, which even small VM kernels have, rather than netem loss or
netfilter marks. ``udp_max`` looks at the UDP length field of the first fragment (it carries the length of the
whole datagram), so a fragmented answer loses its first fragment and cannot be reassembled. Delay needs netem;
a kernel without sch_netem gets an EnvironmentProblem that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from testbed.errors import EnvironmentProblem, LabError
from testbed.lab.backends.base import Host

IFACE = "eth0"
UDP_HEADER = 8
HTB_RATE = "1gbit"                  # never the bottleneck for DNS; htb needs some rate
# classic BPF: load a random u32 (SKF_AD_OFF + SKF_AD_RANDOM), compare, return "match" (-1) or "no match" (0)
BPF_LD_RANDOM = 0xFFFFF000 + 56


@dataclass(frozen=True)
class NetFault:
    """What ``apply_netem`` sets on one host; the zero value means no fault."""

    delay_ms: int = 0
    loss_pct: float = 0.0
    down: bool = False
    udp_max: int | None = None

    def __post_init__(self) -> None:
        if self.delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        if not 0.0 <= self.loss_pct <= 100.0:
            raise ValueError("loss_pct must be between 0 and 100")
        if self.udp_max is not None and not 12 <= self.udp_max <= 65507:
            raise ValueError("udp_max must be a DNS message size between 12 and 65507 bytes")

    @property
    def drops(self) -> bool:
        return self.loss_pct > 0 or self.udp_max is not None


def _run(host: Host, argv: list[str], what: str) -> str:
    code, out = host.exec(argv)
    if code == 0:
        return out
    text = out.strip()
    if "Operation not permitted" in text or "Permission denied" in text:
        raise EnvironmentProblem(f"{what} on {host.spec.name} was refused: {text}",
                                 fix="start the host with HostSpec(needs_net_admin=True) (docker: NET_ADMIN "
                                     "is granted only at container creation; netns: run as root)")
    if code in (126, 127) or "executable file not found" in text:
        raise EnvironmentProblem(f"{what} on {host.spec.name}: {argv[0]} is missing ({text})",
                                 fix=f"install iproute2 in image '{host.spec.image}' (compose/<image>/Dockerfile), "
                                     "or on this machine for netns")
    if "netem" in argv and ("unknown" in text.lower() or "No such file" in text):
        raise EnvironmentProblem(f"cannot delay packets on {host.spec.name}: this kernel has no netem qdisc "
                                 f"({text})", fix="load it (modprobe sch_netem) or use a kernel built with "
                                                  "CONFIG_NET_SCH_NETEM; loss, down and udp_max work without it")
    raise LabError(f"{what} on {host.spec.name} failed (exit {code}): {' '.join(argv)}: {text}")


def range_masks(low: int, high: int, bits: int = 16) -> list[tuple[int, int]]:
    """(value, mask) pairs whose matches together are exactly the integers low..high (u32 has no "greater")."""
    out = []
    full = (1 << bits) - 1
    while low <= high:
        size = low & -low if low else 1 << bits          # the largest aligned block starting at low ...
        while size > high - low + 1:                     # ... that does not run past high
            size >>= 1
        out.append((low, full & ~(size - 1)))
        low += size
    return out


def loss_bytecode(loss_pct: float) -> str:
    """A classic-BPF classifier matching each packet with probability ``loss_pct`` percent, in tc's syntax."""
    threshold = min(0xFFFFFFFF, max(0, round((1 - loss_pct / 100) * 2**32)))
    program = [(0x20, 0, 0, BPF_LD_RANDOM),       # ld  rand
               (0x35, 0, 1, threshold),           # jge #threshold, match, nomatch
               (0x06, 0, 0, 0xFFFFFFFF),          # match: ret #-1 (the filter's classid)
               (0x06, 0, 0, 0)]                   # nomatch: ret #0
    return ",".join([str(len(program))] + [f"{c} {jt} {jf} {k}" for c, jt, jf, k in program])


def fault_commands(fault: NetFault) -> list[tuple[str, list[str]]]:
    """(what, argv) to run inside the host, in order, to set ``fault`` on a host that has none.

    Also used by the compose export, which runs them in a container's entrypoint.
    """
    cmds: list[tuple[str, list[str]]] = []

    def tc(what: str, *args: str) -> None:
        cmds.append((what, ["tc", *args]))

    if fault.delay_ms > 0 or fault.drops:
        tc("adding the fault qdisc", "qdisc", "replace", "dev", IFACE, "root", "handle", "1:", "htb", "default", "1",
           "r2q", "1000")
        tc("adding the pass class", "class", "add", "dev", IFACE, "parent", "1:", "classid", "1:1", "htb", "rate",
           HTB_RATE)
    if fault.delay_ms > 0:
        tc("adding a delay", "qdisc", "add", "dev", IFACE, "parent", "1:1", "handle", "10:", "netem", "delay",
           f"{fault.delay_ms}ms")
    if fault.drops:
        tc("adding the drop class", "class", "add", "dev", IFACE, "parent", "1:", "classid", "1:2", "htb", "rate",
           HTB_RATE)
        tc("adding the drop queue", "qdisc", "add", "dev", IFACE, "parent", "1:2", "handle", "2:", "pfifo", "limit",
           "0")
    if fault.udp_max is not None:
        # UDP from port 53, first fragment (offset 0), UDP length (offset 24: IPv4 header without options + 4)
        # above udp_max + 8
        for value, mask in range_masks(fault.udp_max + UDP_HEADER + 1, 0xFFFF):
            tc("adding a udp_max filter", "filter", "add", "dev", IFACE, "parent", "1:", "protocol", "ip", "prio",
               "1", "u32", "match", "ip", "protocol", "17", "0xff", "match", "ip", "sport", "53", "0xffff", "match",
               "u16", "0", "0x1fff", "at", "6", "match", "u16", hex(value), hex(mask), "at", "24", "flowid", "1:2")
    if fault.loss_pct > 0:
        tc("adding a loss filter", "filter", "add", "dev", IFACE, "parent", "1:", "protocol", "ip", "prio", "2",
           "bpf", "bytecode", loss_bytecode(fault.loss_pct), "classid", "1:2")
    if fault.down:
        cmds.append(("taking the link down", ["ip", "link", "set", IFACE, "down"]))
    return cmds


def apply_netem(host: Host, *, delay_ms: int = 0, loss_pct: float = 0.0, down: bool = False,
                udp_max: int | None = None) -> NetFault:
    """Set these faults on ``host``'s outgoing traffic, replacing any set before. Returns what was applied.

    Raises EnvironmentProblem when the host may not change its network (no NET_ADMIN), lacks ``tc``/``ip``, or
    a delay is asked of a kernel without netem; the host is left without faults then.
    """
    fault = NetFault(delay_ms=delay_ms, loss_pct=loss_pct, down=down, udp_max=udp_max)
    clear_netem(host)
    try:
        for what, argv in fault_commands(fault):
            _run(host, argv, what)
    except BaseException:
        clear_netem(host)           # all or nothing: never a half-applied fault
        raise
    return fault


def clear_netem(host: Host) -> None:
    """Remove every fault ``apply_netem`` can set; harmless on a host that has none."""
    host.exec(["ip", "link", "set", IFACE, "up"])
    host.exec(["tc", "qdisc", "del", "dev", IFACE, "root"])        # "no such qdisc" when there is none


def netem_supported(host: Host) -> bool:
    """Can ``host`` delay packets (the kernel has sch_netem and the host may use it)?"""
    code, _ = host.exec(["tc", "qdisc", "replace", "dev", IFACE, "root", "netem", "delay", "0ms"])
    host.exec(["tc", "qdisc", "del", "dev", IFACE, "root"])
    return code == 0
