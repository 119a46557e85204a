"""Checks: compare what a resolver answered (``Observation``) with what the scenario expects (``Expectation``).

Statuses:
  pass   the answer met the RFC expectation
  fail   it did not (or it did not meet a resolver's documented override)
  xfail  it met a documented, per-resolver override: a known divergence, reported with its reason, never a pass
  error  no usable answer (timeout, refused connection): we learnt nothing about validation
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass

from testbed.run.observation import Observation
from testbed.scenario.loader import IMPLIED_RCODES
from testbed.scenario.model import Check, Expectation, Override

if TYPE_CHECKING:
    from testbed.run.evidence import Evidence

Status = Literal["pass", "fail", "xfail", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "xfail", "error")


@dataclass(frozen=True)
class Verdict:
    """The result of one check against one resolver."""

    check: Check
    resolver: str
    observation: Observation
    status: Status
    reason: str                       # why it failed / which divergence it is; "" for a pass
    expected: Expectation             # the expectation used: the override's when there is one
    duration_ms: float = 0.0
    scenario: str = ""
    file: Path | None = None
    phase: str | None = None          # timeline scenarios: the phase this check ran in
    log_excerpt: str = ""             # the resolver's log around a fail/error, attached by the runner
    override: Override | None = None  # the documented divergence the verdict was judged against, if any
    software: str = ""                # unbound, bind, knot, pdns (a generation's or a custom build's family)
    generation: str = ""              # debian12, debian13 (testbed/resolvers/generations.py)
    resolver_version: str = ""        # the daemon's own version, as it reports it
    package_version: str = ""         # the exact Debian package version
    profile: str = "defaults"         # the standards profile the resolver's config was rendered for
    evidence: Evidence | None = None  # log lines, both answers, the chain walk and its sentence (run/evidence.py)

    @property
    def reference(self) -> str | None:
        """The RFC section behind the expectation used (an override may cite its own source)."""
        if self.status == "xfail" and self.override is not None and self.override.reference:
            return self.override.reference
        return self.check.reference


def evaluate(check: Check, resolver: str, obs: Observation, *, scenario: str = "", file: Path | None = None,
             phase: str | None = None, duration_ms: float = 0.0, family: str | None = None,
             version: str | None = None, log: str | None = None) -> Verdict:
    """Judge one observation. An override for ``resolver`` replaces the RFC expectation entirely.

    ``family`` names the software a bring-your-own resolver is built from (``unbound`` for ``unbound-dev``): the
    divergences documented for that software apply to the custom build too, unless it has overrides of its own.
    ``version`` is the resolver's own version: an override applies only to the versions it was measured on
    (its ``versions`` range); outside them the resolver is held to the RFC expectation.
    ``log`` is what the resolver logged while it answered this query: an override that names a ``log`` pattern is
    met only when a line matches (None: the log was not looked at, which fails such an override too).
    """
    override = check.override_for(resolver, version) or (check.override_for(family, version) if family else None)
    expected = override.expectation if override is not None else check.expect

    def verdict(status: Status, reason: str) -> Verdict:
        return Verdict(check=check, resolver=resolver, observation=obs, status=status, reason=reason,
                       expected=expected, duration_ms=duration_ms, scenario=scenario, file=file, phase=phase,
                       override=override)

    if obs.error is not None or obs.rcode is None:
        return verdict("error", obs.error or "no response")
    problems = mismatches(expected, obs, check.qtype)
    if override is None:
        return verdict("fail", "; ".join(problems)) if problems else verdict("pass", "")
    if problems:
        # The documented divergence did not happen either: say so, so stale overrides get noticed.
        return verdict("fail", f"with the {resolver} override ({override.reason}): " + "; ".join(problems))
    if override.log is not None and not log_matches(override.log, log):
        # The answer looked like the documented divergence, but so would any other failure: the log decides.
        return verdict("fail", f"with the {resolver} override ({override.reason}): the answer matched, but the "
                               f"resolver logged no line matching {override.log!r} for this query")
    return verdict("xfail", override.reason)


def log_matches(pattern: str, log: str | None) -> bool:
    return log is not None and re.search(pattern, log, re.MULTILINE) is not None


def mismatches(expected: Expectation, obs: Observation, qtype: str) -> list[str]:
    """Every field of ``obs`` that does not meet ``expected``, each as a short plain sentence."""
    problems: list[str] = []
    if obs.outcome != expected.outcome:
        problems.append(f"expected {expected.outcome}, got {obs.outcome}")
    wanted_rcodes = (expected.rcode,) if expected.rcode else IMPLIED_RCODES[expected.outcome]
    if obs.rcode not in wanted_rcodes:
        problems.append(f"expected rcode {' or '.join(wanted_rcodes)}, got {obs.rcode}")
    if expected.ede is not None:
        problem = _ede_problem(expected.ede, obs)
        if problem:
            problems.append(problem)
    if expected.answer is not None:
        # A bogus answer is SERVFAIL with no data; the data the check names is what CD=1 returned.
        got = (obs.cd_answer or []) if expected.outcome == "bogus" else obs.answer
        problems.extend(_answer_problems(expected.answer, got, qtype))
    return problems


def _ede_text(obs: Observation) -> str:
    if not obs.ede:
        return "none"
    return ", ".join(f"{code} ({text})" if text else str(code) for code, text in obs.ede)


def _ede_problem(wanted: tuple[int, ...], obs: Observation) -> str | None:
    if not wanted:
        return f"expected no EDE, got {_ede_text(obs)}" if obs.ede else None
    if any(code in wanted for code in obs.ede_codes):
        return None
    return f"expected EDE one of [{', '.join(map(str, wanted))}], got {_ede_text(obs)}"


def _normalise(text: str, qtype: str) -> object:
    """Rdata in canonical form so '192.0.2.080'-style and case/spacing differences do not cause false fails."""
    try:
        return dns.rdata.from_text(dns.rdataclass.IN, qtype, text, origin=dns.name.root)
    except (dns.exception.DNSException, ValueError):
        return " ".join(text.lower().split())


def _answer_problems(wanted: tuple[str, ...], got: list[str], qtype: str) -> list[str]:
    if not wanted:  # "answer: []" means the answer must be empty (NODATA / NXDOMAIN)
        return [f"expected no {qtype} data, got {', '.join(got)}"] if got else []
    have = [_normalise(text, qtype) for text in got]
    missing = [text for text in wanted if _normalise(text, qtype) not in have]
    if not missing:
        return []
    return [f"expected answer to include {', '.join(missing)}, got {', '.join(got) if got else 'no data'}"]
