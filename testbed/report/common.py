"""Helpers every report format shares, so console, JSON, JUnit (and later HTML) describe a verdict the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from testbed.run.checks import STATUSES, Verdict
from testbed.scenario.model import Expectation

DEFAULT_GROUP = "scenarios"


def scenario_group(verdict: Verdict) -> str:
    """The folder a scenario file lives in (``conformance/nsec3/x.yaml`` -> ``nsec3``): its suite in reports."""
    if verdict.file is None or not verdict.file.parent.name:
        return DEFAULT_GROUP
    return verdict.file.parent.name


def run_profile(verdicts: Iterable[Verdict]) -> str:
    """The standards profile(s) the verdicts were judged under: ``defaults``, ``rfc2026``, or e.g.
    ``defaults+rfc2026`` for a merge of both (the report names it; resolvers/profiles.py says what each sets)."""
    return "+".join(sorted({v.profile for v in verdicts})) or "defaults"


def summary_counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """Counts per status; every status is present, even at zero, so consumers need no defaults."""
    counts = Counter(v.status for v in verdicts)
    return {status: counts.get(status, 0) for status in STATUSES}


def expected_text(expected: Expectation) -> str:
    """One short line: 'bogus, EDE 7' / 'secure NXDOMAIN'."""
    parts = [expected.outcome + (f" {expected.rcode}" if expected.rcode else "")]
    if expected.ede is not None:
        parts.append("no EDE" if not expected.ede else "EDE " + "|".join(map(str, expected.ede)))
    return ", ".join(parts)


def observed_text(verdict: Verdict) -> str:
    obs = verdict.observation
    if verdict.status == "error":
        return obs.outcome
    text = obs.outcome
    if obs.rcode and obs.rcode not in ("NOERROR", "SERVFAIL"):
        text += f" {obs.rcode}"
    if obs.ede:
        text += ", EDE " + "|".join(str(code) for code in obs.ede_codes)
    return text


def query_label(verdict: Verdict) -> str:
    label = verdict.check.query_text
    return f"[{verdict.phase}] {label}" if verdict.phase else label
