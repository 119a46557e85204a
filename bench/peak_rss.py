"""Run a command and report its wall time and the peak of the summed RSS of it and every process below it
(sampled every 0.5 s from /proc), with the largest processes at that peak.

    python bench/peak_rss.py testbed run bench/scenarios/jp-plan-100k-nsd.yaml --backend netns

Summed RSS counts pages that forked processes share (NSD's server children) once per process, so the peak of the
summed proportional set size (Pss in /proc/PID/smaps_rollup, which splits each shared page between its sharers) is
printed too: that is the memory the whole run held.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        found.setdefault(ppid, []).append(int(entry))
    return found


def proc_kb(path: str, field: str) -> int:
    """A "Field:   N kB" line of a /proc file (0 when the process is gone)."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return proc_kb(f"/proc/{pid}/status", "VmRSS:")


def pss_kb(pid: int) -> int:
    return proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as name:
            return name.read().strip()
    except OSError:
        return "?"


def main(argv: list[str]) -> int:
    started = time.monotonic()
    proc = subprocess.Popen(argv)
    peak, at_peak, peak_pss = 0, [], 0
    while proc.poll() is None:
        tree, todo, kids = [], [proc.pid], children()
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += kids.get(pid, [])
        sizes = sorted(((rss_kb(pid), pid) for pid in tree), reverse=True)
        total = sum(size for size, _ in sizes)
        peak_pss = max(peak_pss, sum(pss_kb(pid) for pid in tree))
        if total > peak:
            peak, at_peak = total, [(size, comm(pid)) for size, pid in sizes[:6]]
        time.sleep(0.5)
    print(f"wall {time.monotonic() - started:.1f} s, exit {proc.returncode}, peak summed RSS {peak / 1024:.0f} MB, "
          f"peak summed PSS {peak_pss / 1024:.0f} MB; "
          "largest at peak: " + ", ".join(f"{name} {size / 1024:.0f} MB" for size, name in at_peak), file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
