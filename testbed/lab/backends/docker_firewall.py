"""The docker lab's own firewall rules: nothing in a lab container can open a connection to this machine.

The lab network's gateway address is this machine's interface on the bridge (the probe address), so without a
rule a container reaches every service of this machine that listens on 0.0.0.0, through that address; a
container with NET_ADMIN could also route to the machine's other addresses. Docker's own rules for an internal
network only cover forwarding, never INPUT. Each lab therefore puts two rules at the top of INPUT (IPv4 and
IPv6): packets that arrive on its bridge are accepted only as replies to what this machine sent (the probe's
queries); everything else is dropped. The rules carry the lab id in a comment, are removed with the lab, and
``down --all`` removes those a killed run left.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

from testbed.errors import EnvironmentProblem, LabError

COMMENT_PREFIX = "dnssec-testbed lab "
TOOLS = ("iptables", "ip6tables")


def _comment(lab_id: str) -> str:
    # the owning process too: down --all spares a lab whose owner still runs, folder or no folder
    return f"{COMMENT_PREFIX}{lab_id} pid {os.getpid()}"


def _rules(lab_id: str, bridge: str) -> list[list[str]]:
    """In order, top first."""
    tag = ["-m", "comment", "--comment", _comment(lab_id)]
    return [["-i", bridge, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", *tag, "-j", "ACCEPT"],
            ["-i", bridge, *tag, "-j", "DROP"]]


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, "-w", "5", *args], capture_output=True, text=True, timeout=30, check=False)


def install(lab_id: str, bridge: str) -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise EnvironmentProblem(f"the docker backend needs {' and '.join(missing)} to keep lab containers away "
                                 "from this machine's services", fix="apt-get install -y iptables")
    for tool in TOOLS:
        for rule in reversed(_rules(lab_id, bridge)):      # each at the top: the first rule ends up first
            proc = _run(tool, "-I", "INPUT", "1", *rule)
            if proc.returncode != 0:
                raise LabError(f"cannot add the lab's firewall rule ({tool}): {proc.stderr.strip()}",
                               fix="the docker backend needs root (it firewalls the lab bridge off this machine)")


def rules(lab_id: str | None = None) -> list[tuple[str, str, int, list[str]]]:
    """(tool, lab id, owner pid, rule arguments as ``-A INPUT ...``) of every lab rule present, or one lab's."""
    found = []
    for tool in TOOLS:
        if shutil.which(tool) is None:
            continue
        proc = _run(tool, "-S", "INPUT")
        for line in proc.stdout.splitlines():
            if COMMENT_PREFIX not in line:
                continue
            args = shlex.split(line)
            try:
                words = args[args.index("--comment") + 1][len(COMMENT_PREFIX):].split()
                owner, pid = words[0], int(words[2]) if len(words) > 2 else 0
            except (ValueError, IndexError):
                continue
            if lab_id is None or owner == lab_id:
                found.append((tool, owner, pid, args))
    return found


def remove(lab_id: str | None = None) -> list[str]:
    """Delete the lab's rules (every lab's with None); returns one line per rule removed."""
    removed = []
    for tool, owner, _, args in rules(lab_id):
        if args[:2] != ["-A", "INPUT"]:
            continue
        proc = _run(tool, "-D", "INPUT", *args[2:])
        if proc.returncode == 0:
            removed.append(f"firewall rule ({tool}) of lab {owner}")
    return removed


def describe(lab_id: str) -> list[str]:
    return [f"firewall rule ({tool}) of lab {owner}" for tool, owner, _, _ in rules(lab_id)]
