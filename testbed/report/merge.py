"""Result JSON files after the run: ``testbed merge`` (shards or runs into one report) and ``testbed diff`` (what
changed between two runs: generations, profiles, a vendor's build and the stock one).

Both read DESIGN.md's Result JSON only, so they work on files from other machines and older versions of this tool
(fields are only ever added). The JUnit and HTML of a merge are rendered from verdicts rebuilt from the JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.errors import ScenarioError
from testbed.run.checks import STATUSES, Verdict
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override, QueryFlags


def load_document(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("no such result file", file=path, fix="give the --json file of a testbed run") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not a result JSON file: {exc}", file=path,
                            fix="give the file a `testbed run --json FILE` wrote") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ScenarioError("not a result JSON file: it has no 'results' list", file=path,
                            fix="give the file a `testbed run --json FILE` wrote")
    return doc


# ---- merge ----------------------------------------------------------------------------------------------------
def merge_documents(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One run document from several: results in the order given, resolvers united, the summary recounted."""
    # a document written under a profile says so once, at its top: each of its results carries it after a merge,
    # so a report over a defaults run and an rfc2026 run still tells their results apart
    results = [({"profile": doc["profile"], **r} if doc.get("profile") and "profile" not in r else r)
               for doc in docs for r in doc["results"]]
    resolvers: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for entry in doc.get("resolvers", []):
            resolvers.setdefault(entry["name"], entry)
    backends = list(dict.fromkeys(str(doc.get("backend", "?")) for doc in docs))
    merged: dict[str, Any] = {
        "version": docs[0].get("version") if docs else None,
        "backend": "+".join(backends),
        "resolvers": [resolvers[name] for name in sorted(resolvers)],
        "results": results,
        "summary": {s: sum(1 for r in results if r["status"] == s) for s in STATUSES},
    }
    profiles = sorted({str(r.get("profile") or "defaults") for r in results})
    if profiles and profiles != ["defaults"]:
        merged["profile"] = "+".join(profiles)
        # every result says its own, defaults too: the top-level name no longer stands for each of them
        merged["results"] = [{**r, "profile": r.get("profile") or "defaults"} for r in results]
    readiness: dict[str, Any] = {}
    for doc in docs:
        readiness.update({k: v for k, v in (doc.get("readiness") or {}).items() if k != "verdict"})
    if readiness:
        broken = any(state == "broken" for phases in readiness.values() if isinstance(phases, dict)
                     for grid in phases.values() if isinstance(grid, dict) for state in grid.values())
        merged["readiness"] = {**readiness, "verdict": "NOT READY" if broken else "READY"}
    return merged


def verdicts_from_document(doc: dict[str, Any]) -> list[Verdict]:
    """Verdicts rebuilt from result records, enough for the JUnit and HTML writers."""
    profile = doc.get("profile")    # a run's document names its profile once (results may repeat it)
    return [_verdict({"profile": profile, **record} if profile and "profile" not in record else record)
            for record in doc["results"]]


def _flags(words: Iterable[str]) -> QueryFlags:
    values = {"do": True, "ad": False, "cd": False}
    for word in words:
        if word[:1] in "+-" and word[1:] in values:
            values[word[1:]] = word[0] == "+"
    return QueryFlags(**values)


def _verdict(record: dict[str, Any]) -> Verdict:
    words = str(record["query"]).split()
    exp = record.get("expected") or {}
    expected = Expectation(outcome=exp.get("outcome", "secure"), rcode=exp.get("rcode"),
                           ede=None if exp.get("ede") is None else tuple(exp["ede"]),
                           answer=None if exp.get("answer") is None else tuple(exp["answer"]))
    override = Override(record["resolver"], expected, record.get("reason", "")) \
        if record.get("status") == "xfail" else None
    check = Check(qname=words[0], qtype=words[1] if len(words) > 1 else "A", expect=expected,
                  overrides=(override,) if override else (), flags=_flags(words[2:]))
    observed = record.get("observed") or {}
    error = (record.get("reason") or "error") if record.get("status") == "error" else None
    outcome = record.get("outcome")
    observation = Observation(
        rcode=observed.get("rcode"), ad=bool(observed.get("ad")),
        ede=[(int(e["code"]), e.get("text") or "") for e in observed.get("ede") or []],
        answer=list(observed.get("answer") or []),
        # the outcome word is recorded; a CD=1 rcode only matters for telling bogus from servfail
        cd_rcode="NOERROR" if outcome == "bogus" else observed.get("cd_rcode"),
        cd_answer=observed.get("cd_answer"), error=error)
    file = record.get("file")
    return Verdict(check=check, resolver=record["resolver"], observation=observation, status=record["status"],
                   reason=record.get("reason", ""), expected=expected, duration_ms=record.get("duration_ms", 0.0),
                   scenario=record.get("scenario", ""), file=Path(file) if file else None,
                   phase=record.get("phase"), log_excerpt=(record.get("evidence") or {}).get("log", ""),
                   override=override, software=record.get("software") or "",
                   generation=record.get("generation") or "", resolver_version=record.get("resolver_version") or "",
                   package_version=record.get("package_version") or "",
                   profile=record.get("profile") or "defaults")


def resolver_versions(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(entry["name"], entry.get("version", "unknown")) for entry in doc.get("resolvers", [])]


def resolver_info(doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {entry["name"]: {k: v for k, v in entry.items() if k != "name"} for entry in doc.get("resolvers", [])}


# ---- diff -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One answer in the matrix: what a diff compares."""

    outcome: str
    rcode: str | None
    ad: bool
    ede: tuple[int, ...]

    @classmethod
    def of(cls, record: dict[str, Any]) -> Cell:
        observed = record.get("observed") or {}
        return cls(outcome=str(record.get("outcome")), rcode=observed.get("rcode"), ad=bool(observed.get("ad")),
                   ede=tuple(sorted({int(e["code"]) for e in observed.get("ede") or []})))

    def text(self) -> str:
        ede = f" EDE {','.join(map(str, self.ede))}" if self.ede else ""
        return f"{self.outcome} {self.rcode or '-'}{' AD' if self.ad else ''}{ede}"


@dataclass(frozen=True)
class Change:
    scenario: str
    phase: str | None
    query: str
    resolver: str           # the software when each run has one build of it, else the resolver's name
    before: Cell | None     # None: the cell is only in B
    after: Cell | None      # None: the cell is only in A


def _software(record: dict[str, Any]) -> str:
    return str(record.get("software") or str(record["resolver"]).partition("@")[0])


def _label_by_software(*docs: dict[str, Any]) -> bool:
    """Compare by software (unbound in A with unbound@debian13 in B) when every run has one build per software."""
    for doc in docs:
        names: dict[str, set[str]] = {}
        for record in doc["results"]:
            names.setdefault(_software(record), set()).add(str(record["resolver"]))
        if any(len(v) > 1 for v in names.values()):
            return False
    return True


def _cells(doc: dict[str, Any], by_software: bool) -> dict[tuple[str, str | None, str, str], Cell]:
    cells = {}
    for record in doc["results"]:
        label = _software(record) if by_software else str(record["resolver"])
        cells[(str(record.get("scenario")), record.get("phase"), str(record["query"]), label)] = Cell.of(record)
    return cells


def diff_documents(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Every cell whose outcome, rcode, AD bit or EDE set differs between A and B, plus cells only one run has."""
    by_software = _label_by_software(a, b)
    cells_a, cells_b = _cells(a, by_software), _cells(b, by_software)
    changes = []
    for key in list(cells_a) + [k for k in cells_b if k not in cells_a]:
        before, after = cells_a.get(key), cells_b.get(key)
        if before != after:
            changes.append(Change(*key, before=before, after=after))
    return changes


def split_generations(doc: dict[str, Any], path: Path) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """One run over two generations (``--resolver all@debian12 --resolver all@debian13``) as two documents, the
    older generation first: what ``testbed diff R.json`` compares."""
    from testbed.resolvers.generations import GENERATIONS

    by_generation: dict[str, list[dict[str, Any]]] = {}
    for record in doc["results"]:
        by_generation.setdefault(str(record.get("generation") or "?"), []).append(record)
    if len(by_generation) != 2:
        found = ", ".join(sorted(by_generation)) or "none"
        raise ScenarioError(f"one result file compares two resolver generations, and this one has {found}",
                            file=path, fix="run with e.g. --resolver all@debian12 --resolver all@debian13, or "
                                           "give two result files: testbed diff BEFORE.json AFTER.json")
    order = list(GENERATIONS)
    older, newer = sorted(by_generation, key=lambda g: (order.index(g) if g in order else len(order), g))
    return ((older, {**doc, "results": by_generation[older]}), (newer, {**doc, "results": by_generation[newer]}))


def format_diff(changes: Sequence[Change]) -> list[str]:
    """Grouped by scenario, then a count per resolver."""
    lines: list[str] = []
    current: str | None = None
    for change in changes:
        if change.scenario != current:
            current = change.scenario
            lines.append(f"{change.scenario}")
        where = f"[{change.phase}] " if change.phase else ""
        before = change.before.text() if change.before else "(not run)"
        after = change.after.text() if change.after else "(not run)"
        lines.append(f"  {change.resolver:10} {where}{change.query}: {before} -> {after}")
    per_resolver = Counter(c.resolver for c in changes)
    lines.append(f"{len(changes)} changed cells" + (": " + ", ".join(f"{r} {n}" for r, n in sorted(
        per_resolver.items())) if changes else ""))
    return lines
