#!/usr/bin/env python3
"""One-off edit, kept for the record: give every servfail-without-EDE override the log line its resolver writes.

Reads a result JSON of a run whose overrides were judged with their log excerpt (``evidence.log``), picks for each
such xfail the first candidate pattern below that matches what the resolver logged for that query, and writes it
into the scenario file as ``log: '...'`` beside the override's ``versions``. A person reviews the diff.
Usage: scripts/add_override_logs.py RESULT.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from testbed.scenario.loader import load_scenario


def candidates(resolver: str, qname: str, qtype: str, log: str) -> list[str]:
    q = re.escape(qname.rstrip("."))
    if resolver == "unbound":
        # Unbound's own one-line reason for this query, addresses generalised
        m = re.search(rf"SERVFAIL <{q}\. {qtype} IN>: ([^\n]*)", log)
        if m:
            text = re.escape(m.group(1).strip()).replace("\\ ", " ")
            text = re.sub(r"\d+\\\.\d+\\\.\d+\\\.\d+", r"\\S+", text)
            return [rf"SERVFAIL <{q}\. {qtype} IN>: {text}"]
        return [rf"SERVFAIL <{q}\. {qtype} IN>"]
    if resolver == "pdns":
        # 4.8 and 5.x words for its recursion limit
        found = [r"recursing \(CNAME or other indirection\) too deep",
                 r"More than \d+ \(adjusted max-recursion-depth\) levels of recursion needed"]
        # otherwise the validator's own verdict for the query ("Validation result is Bogus - No valid RRSIG")
        m = re.search(r"Validation result is (Bogus - [^,\n]+)", log)
        if m:
            found.append("Validation result is " + re.escape(m.group(1).strip()).replace("\\ ", " "))
        # or its verdict on a denial of existence for the query name
        found.append(rf"Invalid denial found for {q}, res=[^,]+, expectedState=\w+")
        return [*found, rf"{q}: failed \(res=-1\)", r"\S: failed \(res=-1\)", r"Bogus - No valid RRSIG!",
                r"returned a Server Failure", r"Final resolve: Server Failure"]
    if resolver == "bind":
        return [rf"query failed \(timed out\) for {q}/IN/{qtype}", rf"lame server resolving '{q}'",
                rf"REFUSED unexpected RCODE resolving '{q}/{qtype}/IN'",
                rf"(connection reset|end of file) resolving '{q}/{qtype}/IN'", rf"timed out resolving '{q}/{qtype}/IN'",
                rf"resolving '{q}/{qtype}/IN'"]
    if resolver == "knot":
        return [r"TCP_CONNECT_FAILED", r"no suitable transport", r"noting selection error: .* error: 6 SERVFAIL"]
    return []


def main(result_file: str) -> int:
    doc = json.loads(Path(result_file).read_text())
    edits: dict[Path, dict[int, str]] = {}
    for r in doc["results"]:
        log = (r.get("evidence") or {}).get("log")
        if r["status"] != "xfail" or not log:
            continue
        qname, qtype = r["query"].split()[:2]
        truncated = len(log) >= 6000
        found = next((p for p in candidates(r["resolver"], qname, qtype, log) if re.search(p, log)), None)
        if found is None and truncated and r["resolver"] == "pdns" and "too deep" in r["reason"] + "recursion limit":
            found = candidates("pdns", qname, qtype, log)[0]   # the excerpt is the tail; the check reads it all
        if found is None:
            print(f"no pattern: {r['scenario']} {r['phase']} {r['resolver']} {r['query']}", file=sys.stderr)
            continue
        scenario = load_scenario(Path(r["file"]))
        checks = list(scenario.checks) if r["phase"] is None else \
            [c for p in scenario.phases if p.name == r["phase"] for c in p.checks]
        for check in checks:
            if check.query_text != r["query"]:
                continue
            override = check.override_for(r["resolver"])
            if override is not None and override.where is not None and override.log is None:
                edits.setdefault(override.where.file, {})[override.where.line] = found
    for path, lines in edits.items():
        text = path.read_text().split("\n")
        for number, pattern in sorted(lines.items(), reverse=True):
            line = text[number - 1]
            quoted = "'" + pattern.replace("'", "''") + "'"
            if re.match(r"^\s*\w+: \{", line):
                text[number - 1] = re.sub(r'(versions: "[^"]*", )', lambda m, q=quoted: f"{m.group(1)}log: {q}, ",
                                          line, count=1)
            else:
                indent = re.match(r"^(\s*)", text[number]).group(1)
                text.insert(number + 1, f"{indent}log: {quoted}")   # after the versions line
        path.write_text("\n".join(text))
        print(f"{path}: {len(lines)} log patterns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
