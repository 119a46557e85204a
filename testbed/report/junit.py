"""JUnit XML for CI systems: one <testsuite> per scenario group, one <testcase> per scenario x resolver x check.

xfail (a documented resolver divergence) becomes <skipped>: CI shows it, but it does not turn the build red.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from testbed.report.common import expected_text, observed_text, query_label, run_profile, scenario_group, summary_counts
from testbed.run.checks import Verdict

# XML 1.0 cannot carry most control characters; resolver logs and error texts sometimes contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _safe_attributes(attributes: dict[str, str]) -> dict[str, str]:
    # Resolver versions come from the binaries' own output and names from files: ElementTree escapes <&" but
    # writes control characters through, which leaves a file no XML parser (or CI) accepts.
    return {key: _xml_safe(value) for key, value in attributes.items()}


def _testcase(verdict: Verdict, versions: dict[str, str]) -> ET.Element:
    case = ET.Element("testcase", _safe_attributes({
        "classname": scenario_group(verdict),
        "name": f"{verdict.scenario} [{verdict.resolver}] {query_label(verdict)}",
        "time": f"{verdict.duration_ms / 1000:.3f}",
    }))
    if verdict.file is not None:
        case.set("file", _xml_safe(str(verdict.file)))
    props = ET.SubElement(case, "properties")
    properties = {"resolver": verdict.resolver, "resolver_version": versions.get(verdict.resolver, "unknown"),
                  "reference": verdict.reference or "", "profile": verdict.profile}
    for name, value in properties.items():
        ET.SubElement(props, "property", _safe_attributes({"name": name, "value": value}))
    details = _xml_safe(f"query: {verdict.check.query_text}\nexpected: {expected_text(verdict.expected)}\n"
               f"observed: {observed_text(verdict)}\nreason: {verdict.reason}")
    if verdict.status == "fail":
        ET.SubElement(case, "failure", {"message": _xml_safe(verdict.reason), "type": "fail"}).text = details
    elif verdict.status == "error":
        ET.SubElement(case, "error", {"message": _xml_safe(verdict.reason), "type": "error"}).text = details
    elif verdict.status == "xfail":
        ET.SubElement(case, "skipped", {"message": _xml_safe(verdict.reason), "type": "xfail"}).text = details
    if verdict.evidence is not None:
        # CI shows system-out next to the failure: our sentence, the chain, both answers, the resolver's own words
        ev = verdict.evidence
        text = (f"why: {ev.why or '(no chain walk)'}\n\nchain of trust:\n{ev.tree}\n\nanswers:\n{ev.wire}\n"
                f"{verdict.resolver} log during this check:\n{ev.log}\n")
        ET.SubElement(case, "system-out").text = _xml_safe(text)
    elif verdict.log_excerpt:
        ET.SubElement(case, "system-out").text = _xml_safe(verdict.log_excerpt)
    return case


def _suite_attributes(name: str, verdicts: list[Verdict]) -> dict[str, str]:
    counts = summary_counts(verdicts)
    return {
        "name": _xml_safe(name),
        "tests": str(len(verdicts)),
        "failures": str(counts["fail"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["xfail"]),
        "time": f"{sum(v.duration_ms for v in verdicts) / 1000:.3f}",
    }


def junit_tree(verdicts: Iterable[Verdict], resolvers: Sequence[tuple[str, str]] = (), backend: str | None = None,
               name: str = "dnssec-testbed") -> ET.ElementTree:
    verdicts = list(verdicts)
    versions = dict(resolvers)
    groups: dict[str, list[Verdict]] = {}
    for verdict in verdicts:  # keep run order: groups appear as the run reached them
        groups.setdefault(scenario_group(verdict), []).append(verdict)
    root = ET.Element("testsuites", _suite_attributes(name, verdicts))
    for group, members in groups.items():
        suite = ET.SubElement(root, "testsuite", _suite_attributes(group, members))
        props = ET.SubElement(suite, "properties")
        if backend:
            ET.SubElement(props, "property", {"name": "backend", "value": _xml_safe(backend)})
        # the standards profile the resolvers' configs were rendered for (resolvers/profiles.py)
        ET.SubElement(props, "property", {"name": "profile", "value": _xml_safe(run_profile(members))})
        suite.extend(_testcase(v, versions) for v in members)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: Path, verdicts: Iterable[Verdict], resolvers: Sequence[tuple[str, str]] = (),
                backend: str | None = None, name: str = "dnssec-testbed") -> None:
    """``resolvers`` is (name, version) pairs, as for ``write_json``; versions become testcase properties."""
    junit_tree(verdicts, resolvers, backend, name).write(Path(path), encoding="utf-8", xml_declaration=True)
