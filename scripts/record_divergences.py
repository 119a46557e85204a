#!/usr/bin/env python3
"""Record the measured divergences of one run as version-keyed overrides (kept for the record, and for the next
generation): every ``fail`` in RESULT.json becomes an override for that software, ``versions`` = the version that
ran, stating what it answered (outcome, rcode, EDE set, answer, and the log line where a plain SERVFAIL needs one).

Edits the text, keeping the flow style of the bundled scenarios:
  no overrides yet        ->  resolver_overrides: with one line per software
  another software's      ->  a line beside them
  this software's already ->  a list, one item per versions range
A person reads the diff: the generated reason says what was measured, not why.
Usage: scripts/record_divergences.py RESULT.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from testbed.resolvers import registry
from testbed.scenario.loader import load_scenario
from testbed.scenario.versions import parse_version

sys.path.insert(0, str(Path(__file__).parent))
from add_override_logs import candidates  # noqa: E402

IMPLIED = {"secure": ("NOERROR", "NXDOMAIN"), "insecure": ("NOERROR", "NXDOMAIN"), "bogus": ("SERVFAIL",),
           "servfail": ("SERVFAIL",)}


def ede_text(observed: dict) -> str:
    items = observed.get("ede") or []
    if not items:
        return "no EDE"
    return "EDE " + ", ".join(f"{e['code']}" + (f" ({e['text']})" if e.get("text") else "") for e in items)


def expected_text(exp: dict) -> str:
    text = exp["outcome"]
    if exp.get("ede") is not None:
        text += f" with EDE {exp['ede']}" if exp["ede"] else " without EDE"
    return text


def override_fields(r: dict) -> dict | None:
    exp, obs, outcome = r["expected"], r["observed"], r["outcome"]
    if outcome not in IMPLIED:
        return None                                   # timeouts and errors are not divergences to record
    version = ".".join(map(str, parse_version(r.get("resolver_version") or "") or ()))
    fields: dict = {"versions": version}
    if outcome != exp["outcome"]:
        fields["expect"] = outcome
    elif exp.get("rcode") and obs["rcode"] != exp["rcode"]:
        fields["rcode"] = obs["rcode"]
    codes = sorted({e["code"] for e in obs.get("ede") or []})
    if exp.get("ede") is not None and (set(codes).isdisjoint(exp["ede"]) if exp["ede"] else codes):
        fields["ede"] = codes
    elif "expect" in fields and (exp.get("ede") is not None or codes):
        fields["ede"] = codes           # a new outcome: its EDE set is part of what was measured
    if exp.get("answer") is not None and ("expect" in fields or "expected answer" in r["reason"]):
        got = obs.get("cd_answer") if outcome == "bogus" else obs.get("answer")
        fields["answer"] = list(got or [])
    if outcome == "servfail" and not codes:
        log = (r.get("evidence") or {}).get("log") or ""
        qname, qtype = r["query"].split()[:2]
        found = next((p for p in candidates(r["software"], qname, qtype, log) if re.search(p, log)), None)
        if found is None:
            print(f"NO LOG PATTERN: {r['scenario']} {r['phase']} {r['resolver']} {r['query']}", file=sys.stderr)
            return None
        fields["log"] = found
    display = registry()[r["software"]].display_name.removesuffix(" 9")   # "BIND 9" + "9.20.30"
    rcode = f" {obs['rcode']}" if outcome in ("secure", "insecure") and obs["rcode"] != "NOERROR" else ""
    fields["reason"] = (f"{display} {version} answers {outcome}{rcode} with {ede_text(obs)} where the check expects "
                        f"{expected_text(exp)}")
    fields["reference"] = f"measured on {version} ({r.get('generation')}, package {r.get('package_version')})"
    return fields


def flow(fields: dict) -> str:
    parts = []
    for key, value in fields.items():
        if key == "log":
            parts.append(f"log: '{value.replace(chr(39), chr(39) * 2)}'")
        elif isinstance(value, list):
            parts.append(f"{key}: {json.dumps(value)}")
        else:
            parts.append(f"{key}: {json.dumps(value) if key in ('versions', 'reason', 'reference') else value}")
    return "{" + ", ".join(parts) + "}"


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def block_end(lines: list[str], start: int) -> int:
    """Index after the last line belonging to the YAML item starting at ``start`` (a '- query:' line)."""
    base = indent_of(lines[start])
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if line.strip() and (indent_of(line) < base or (indent_of(line) == base and line.lstrip().startswith("- "))):
            break
        i += 1
    while i > start + 1 and not lines[i - 1].strip():
        i -= 1
    return i


def insert(lines: list[str], check_line: int, software: str, text: str) -> None:
    start = check_line - 1
    while not lines[start].lstrip().startswith("- "):
        start -= 1
    end = block_end(lines, start)
    item_indent = indent_of(lines[start]) + 2
    ro = next((i for i in range(start, end) if lines[i].strip() == "resolver_overrides:"), None)
    if ro is None:
        lines[end:end] = [" " * item_indent + "resolver_overrides:", " " * (item_indent + 2) + f"{software}: {text}"]
        return
    key_indent = indent_of(lines[ro + 1])
    own = next((i for i in range(ro + 1, end) if indent_of(lines[i]) == key_indent
                and lines[i].lstrip().startswith(f"{software}:")), None)
    if own is None:
        last = ro + 1
        while last < end and (not lines[last].strip() or indent_of(lines[last]) >= key_indent):
            last += 1
        lines.insert(last, " " * key_indent + f"{software}: {text}")
        return
    current = lines[own].split(":", 1)[1].strip()
    if current.startswith("{"):
        lines[own:own + 1] = [" " * key_indent + f"{software}:", " " * (key_indent + 2) + f"- {current}",
                              " " * (key_indent + 2) + f"- {text}"]
    elif current == "" and lines[own + 1].lstrip().startswith("- "):
        j = own + 1
        while j < end and lines[j].lstrip().startswith("- "):
            j += 1
        lines.insert(j, " " * (key_indent + 2) + f"- {text}")
    else:
        print(f"BLOCK OVERRIDE, edit by hand: line {own + 1}: {software} {text}", file=sys.stderr)


def main(result_file: str) -> int:
    doc = json.loads(Path(result_file).read_text())
    edits: dict[Path, list[tuple[int, str, str]]] = {}
    for r in doc["results"]:
        if r["status"] != "fail":
            continue
        fields = override_fields(r)
        if fields is None:
            continue
        scenario = load_scenario(Path(r["file"]))
        checks = list(scenario.checks) if r["phase"] is None else \
            [c for p in scenario.phases if p.name == r["phase"] for c in p.checks]
        check = next((c for c in checks if c.query_text == r["query"]), None)
        if check is None or check.where is None:
            print(f"NOT FOUND: {r['scenario']} {r['phase']} {r['query']}", file=sys.stderr)
            continue
        edits.setdefault(Path(r["file"]), []).append((check.where.line, r["software"], flow(fields)))
    for path, items in edits.items():
        lines = path.read_text().split("\n")
        for line, software, text in sorted(items, reverse=True):
            insert(lines, line, software, text)
        path.write_text("\n".join(lines))
        print(f"{path}: {len(items)} overrides")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
