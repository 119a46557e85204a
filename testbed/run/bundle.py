"""``--evidence-dir DIR``: per check that carries evidence (not passed; with ``--evidence all`` every one), a folder
with everything needed to see why, away from the lab.

  why.txt         the sentence and the chain of trust as a tree (chain.json: the same, for machines)
  answers.txt     both answers (DO=1, CD=1) as dig prints them
  log.txt         the resolver's log lines for this check
  query.pcap      the lab network's packets while the resolver answered this check (tcpdump on the lab bridge)
  zones/          the zone files the servers served (signed text: public data only)
  keys.txt        every DNSKEY, DS and the trust anchor the resolvers were given
  resolver/       the resolver's rendered config, minus any file holding a secret (control-channel keys)

Private keys never go into a bundle: none is ever written to a lab folder, and the copy refuses any file that
looks like one.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testbed.lab.lab import Lab
    from testbed.run.checks import Verdict
    from testbed.run.evidence import Evidence

_SECRET_NAME = re.compile(r"key|secret|private|\.pem$", re.IGNORECASE)
_SECRET_TEXT = re.compile(r"PRIVATE KEY|Private-key-format|PrivateKey:|secret\s+\"", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Capture:
    """tcpdump on the lab bridge for the span of one check; ``stop`` returns the pcap (None: no capture)."""

    def __init__(self, lab: Lab) -> None:
        self.path: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        argv = lab.backend.capture_argv() if lab.backend is not None else None
        if argv is None or shutil.which("tcpdump") is None:
            return
        handle, name = tempfile.mkstemp(prefix="check-", suffix=".pcap", dir=lab.workdir)
        Path(name).chmod(0o600)
        self.path = Path(name)
        # --immediate-mode and -U: each packet handed over and written as it comes (else the last ones wait in the
        # kernel ring when the capture stops); -n: no name lookups (which would leave the lab); DNS only
        self.proc = subprocess.Popen([*argv, "--immediate-mode", "-U", "-n", "-w", str(self.path), "port", "53"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_listening(self.proc)

    def stop(self) -> Path | None:
        if self.proc is None:
            return None
        time.sleep(0.05)            # the last answer's packet is on the wire; let tcpdump write it
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.path

    def discard(self) -> None:
        path = self.stop()
        if path is not None:
            path.unlink(missing_ok=True)


def _wait_listening(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """tcpdump says "listening on" once its capture is in place: only then may the query go out."""
    import select

    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stderr], [], [], 0.1)
        if ready:
            chunk = proc.stderr.read1(4096)  # type: ignore[attr-defined]
            seen += chunk
            if b"listening on" in seen:
                return


def folder_for(root: Path, verdict: Verdict, index: int) -> Path:
    parts = [verdict.scenario, verdict.phase or "", verdict.resolver,
             f"{index:03d}-{verdict.check.qname.rstrip('.')}-{verdict.check.qtype}"]
    return root.joinpath(*[_UNSAFE.sub("_", p) for p in parts if p])


def write_bundle(root: Path, lab: Lab, verdict: Verdict, evidence: Evidence, pcap: Path | None, index: int) -> Path:
    folder = folder_for(root, verdict, index)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "why.txt").write_text(f"{verdict.status}: {verdict.reason}\nwhy: {evidence.why}\n\n{evidence.tree}\n")
    (folder / "chain.json").write_text(json.dumps(evidence.chain, indent=1) + "\n")
    (folder / "answers.txt").write_text(evidence.wire)
    (folder / "log.txt").write_text(evidence.log + "\n")
    if pcap is not None and pcap.exists():
        shutil.move(str(pcap), folder / "query.pcap")
    zones = folder / "zones"
    zones.mkdir(exist_ok=True)
    keys: list[str] = [f"; trust anchor given to the resolvers\n{line}" for line in lab.trust_anchor]
    for server, plan in lab.topology.servers.items():
        for path in sorted((lab.workdir / "hosts" / server).glob("*.zone")):
            text = path.read_text(errors="replace")
            if _SECRET_TEXT.search(text):
                continue
            (zones / f"{server}-{path.name}").write_text(text)
            keys += [line for line in text.splitlines() if re.search(r"\sIN\s+(DNSKEY|DS|CDS|CDNSKEY)\s", line)]
        del plan
    (folder / "keys.txt").write_text("\n".join(dict.fromkeys(keys)) + "\n")
    resolver = folder / "resolver"
    resolver.mkdir(exist_ok=True)
    running = lab.resolvers.get(verdict.resolver)
    if running is not None:
        for name in running.adapter.render(running.ctx):
            source = running.ctx.folder / name
            if _SECRET_NAME.search(name) or not source.is_file():
                continue
            text = source.read_text(errors="replace")
            if not _SECRET_TEXT.search(text):
                (resolver / Path(name).name).write_text(text)
    return folder
