#!/usr/bin/env python3
"""One-off edit (kept for the record, and to re-run on new scenarios): give every override in scenarios/ the
version it was measured on. The bundled suite was measured on Debian 12's resolvers (`testbed resolvers`).

Edits the text, not a YAML round-trip, so comments, quoting and flow style stay as written:
  ``bind: {ede: [], ...}``   ->  ``bind: {versions: "9.18.49", ede: [], ...}``
  ``pdns:`` + block          ->  a ``versions: "4.8.8"`` line first in the block
  ``pdns: *anchor``          ->  the anchored block copied under pdns with pdns's own version
Overrides that already carry ``versions`` are left alone.
Usage: scripts/add_override_versions.py [bind=9.18.49 ...] [FILES...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MEASURED = {"bind": "9.18.49", "unbound": "1.17.1", "knot": "5.6.0", "pdns": "4.8.8"}
NAMES = "|".join(MEASURED)
FLOW = re.compile(rf"^(?P<indent>\s*)(?P<name>{NAMES}): \{{(?!\s*versions:)")
BLOCK = re.compile(rf"^(?P<indent>\s*)(?P<name>{NAMES}):(?P<anchor> &[\w-]+)?\s*$")
ALIAS = re.compile(rf"^(?P<indent>\s*)(?P<name>{NAMES}): \*(?P<alias>[\w-]+)\s*$")


def block_of(lines: list[str], start: int) -> list[str]:
    """The lines indented under lines[start]."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    out = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def edit(text: str) -> str:
    lines = text.split("\n")
    anchors: dict[str, list[str]] = {}
    out: list[str] = []
    for i, line in enumerate(lines):
        if m := FLOW.match(line):
            out.append(line.replace("{", f'{{versions: "{MEASURED[m["name"]]}", ', 1))
        elif m := BLOCK.match(line):
            body = block_of(lines, i)
            if m["anchor"]:
                anchors[m["anchor"].strip()[1:]] = body
            out.append(line)
            if body and not any(b.strip().startswith("versions:") for b in body):
                child = body[0][:len(body[0]) - len(body[0].lstrip())]
                out.append(f'{child}versions: "{MEASURED[m["name"]]}"')
        elif (m := ALIAS.match(line)) and m["alias"] in anchors:
            out.append(f"{m['indent']}{m['name']}:")
            child = " " * (len(m["indent"]) + 2)
            out.append(f'{child}versions: "{MEASURED[m["name"]]}"')
            body = anchors[m["alias"]]
            base = min(len(b) - len(b.lstrip()) for b in body if b.strip())
            out.extend(child + b[base:] if b.strip() else b for b in body)
        else:
            out.append(line)
    return "\n".join(out)


def main(argv: list[str]) -> int:
    for arg in [a for a in argv if "=" in a]:
        name, _, version = arg.partition("=")
        MEASURED[name] = version
    files = [Path(a) for a in argv if "=" not in a] or sorted(Path("scenarios").rglob("*.yaml"))
    changed = 0
    for path in files:
        text = path.read_text()
        new = edit(text)
        if new != text:
            path.write_text(new)
            changed += 1
    print(f"{changed} files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
