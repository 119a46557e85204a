"""The machine-readable result: one JSON object per run, exactly DESIGN.md's "Result JSON" shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from testbed import __version__
from testbed.registry.events import RegistryEvent
from testbed.report.common import run_profile, summary_counts
from testbed.report.readiness import readiness
from testbed.report.registry_report import registry_json
from testbed.run.checks import Verdict


def result_record(verdict: Verdict) -> dict[str, Any]:
    """One ``results`` entry."""
    expected = verdict.expected
    return {
        "scenario": verdict.scenario,
        "file": str(verdict.file) if verdict.file is not None else None,
        "resolver": verdict.resolver,
        # which build answered (DESIGN.md's resolver_version, plus generation and package), where it is known
        **{key: value for key, value in (("software", verdict.software), ("generation", verdict.generation),
                                         ("resolver_version", verdict.resolver_version),
                                         ("package_version", verdict.package_version),
                                         # a profile other than vendor defaults (resolvers/profiles.py)
                                         ("profile", "" if verdict.profile == "defaults" else verdict.profile))
           if value},
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
        **({"evidence": verdict.evidence.to_json()} if verdict.evidence is not None else {}),
    }


def run_document(verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]],
                 registry: Sequence[RegistryEvent] = (), info: dict[str, dict[str, str]] | None = None,
                 servers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole run as a JSON-ready dict (the HTML report can render from this too)."""
    verdicts = list(verdicts)
    info = info or {}
    document: dict[str, Any] = {
        "version": __version__,
        "backend": backend,
        "resolvers": [{"name": name, **{k: v for k, v in info.get(name, {}).items() if k != "version"},
                       "version": version} for name, version in resolvers],
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
    # the registry's decisions (timelines with DS submissions or CDS scans; an addition to DESIGN.md's shape)
    if registry:
        document["registry"] = registry_json(verdicts, registry)
    return document


def write_json(path: Path, verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]],
               registry: Sequence[RegistryEvent] = (), info: dict[str, dict[str, str]] | None = None,
               servers: Mapping[str, str] | None = None, profile: str = "defaults") -> None:
    verdicts = list(verdicts)
    document = run_document(verdicts, backend, resolvers, registry, info, servers)
    judged_under = run_profile(verdicts) if verdicts else profile
    if judged_under != "defaults":
        # the resolver configuration the run held (testbed/resolvers/profiles.py); absent: vendor defaults, so a
        # default run's document is exactly what it was before profiles existed
        document["profile"] = judged_under
    Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
