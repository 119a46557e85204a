"""The machine-readable result: one JSON object per run, exactly DESIGN.md's "Result JSON" shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from testbed import __version__
from testbed.report.common import summary_counts
from testbed.run.checks import Verdict
from testbed.timeline.readiness import readiness


def result_record(verdict: Verdict) -> dict[str, Any]:
    """One ``results`` entry."""
    expected = verdict.expected
    return {
        "scenario": verdict.scenario,
        "file": str(verdict.file) if verdict.file is not None else None,
        "resolver": verdict.resolver,
        "phase": verdict.phase,
        "query": verdict.check.query_text,
        "expected": {
            "outcome": expected.outcome,
            "rcode": expected.rcode,
            "ede": None if expected.ede is None else list(expected.ede),
            "answer": None if expected.answer is None else list(expected.answer),
        },
        "observed": verdict.observation.to_json(),
        "outcome": verdict.observation.outcome,
        "status": verdict.status,
        "reason": verdict.reason,
        "duration_ms": round(verdict.duration_ms, 3),
    }


def run_document(verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]],
                 servers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole run as a JSON-ready dict (the HTML report can render from this too)."""
    verdicts = list(verdicts)
    document: dict[str, Any] = {
        "version": __version__,
        "backend": backend,
        "resolvers": [{"name": name, "version": version} for name, version in resolvers],
        "results": [result_record(v) for v in verdicts],
        "summary": summary_counts(verdicts),
    }
    if servers:
        # real authoritative servers only (an addition): host -> software and version; the rest are builtin
        document["servers"] = [{"host": host, "software": text.split(" ", 1)[0], "version": text.split(" ", 1)[-1]}
                               for host, text in sorted(servers.items())]
    # timelines only (an addition to DESIGN.md's shape): {scenario: {phase: {resolver: "ok"|"broken"}}, "verdict"}
    grid = readiness(verdicts)
    if grid is not None:
        document["readiness"] = grid.to_json()
    return document


def write_json(path: Path, verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]],
               servers: Mapping[str, str] | None = None) -> None:
    document = run_document(verdicts, backend, resolvers, servers)
    Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
