"""The chain of trust drawn as a picture, the way DNSViz users know it: each zone a box, in it the DS that vouch
for it, its DNSKEY RRset and what it signs; arrows for digests and signatures; the broken link red.

Graphviz's ``dot`` (Debian package ``graphviz``) lays it out as SVG, inlined in the HTML report. Without ``dot``
there is no picture (the text tree stays), and ``svg`` says so by returning None.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from typing import Any

COLOURS = {"valid": "#2f9e44", "invalid": "#e03131", "missing": "#e03131", "error": "#e03131",
           "insecure": "#f08c00", "info": "#868e96"}
FILL = {"valid": "#ebfbee", "invalid": "#ffe3e3", "missing": "#ffe3e3", "error": "#ffe3e3", "insecure": "#fff4e6",
        "info": "#f8f9fa"}
_EDGE = {"ds": "digest", "dnskey": "signs", "rrsig": "signs", "denial": "proves", "answer": "", "server": "asks",
         "anchor": "", "delegation": "refers"}


def _q(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, line breaks as DOT's centred \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def dot_source(chain: dict[str, Any]) -> str:
    """DOT for one chain (``Chain.to_json()``): a cluster per zone, a node per link, arrows in the order checked."""
    lines = ["digraph chain {", '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.3];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    previous: str | None = None
    broken_seen = False
    counter = 0

    def walk(steps: list[dict[str, Any]], prefix: str) -> None:
        nonlocal previous, broken_seen, counter
        for index, step in enumerate(steps):
            lines.append(f"  subgraph cluster_{prefix}{index} {{")
            zone = step["zone"].rstrip(".") or "."
            lines.append(f"    label={_q(zone + ('' if step['secure'] else '  (not validated)'))}; "
                         'style="rounded"; color="#495057";')
            for link in step["links"]:
                if link["kind"] == "delegation":
                    continue
                counter += 1
                node = f"n{counter}"
                verdict = link["verdict"]
                label = link["subject"]
                tag = link["facts"].get("key_tag")
                if tag is not None and str(tag) not in label:
                    label += f"\nkey {tag}"
                if link["verdict"] not in ("valid", "info"):
                    label += f"\n{verdict.upper()}"
                width = "2.5" if verdict in ("invalid", "missing", "error") else "1"
                lines.append(f"    {node} [label={_q(label)}, color={_q(COLOURS[verdict])}, "
                             f"fillcolor={_q(FILL[verdict])}, penwidth={width}, tooltip={_q(link['detail'])}];")
                if previous is not None:
                    bad = verdict in ("invalid", "missing", "error") and not broken_seen
                    colour = COLOURS["invalid"] if bad else "#495057"
                    lines.append(f"    {previous} -> {node} [label={_q(_EDGE.get(link['kind'], ''))}, "
                                 f"color={_q(colour)}, penwidth={'2.5' if bad else '1'}];")
                if verdict in ("invalid", "missing", "error"):
                    broken_seen = True
                previous = node
            lines.append("  }")

    walk(chain["steps"], "z")
    for number, sub in enumerate(chain.get("followed", [])):
        walk(sub["steps"], f"f{number}_")
    lines.append("}")
    return "\n".join(lines) + "\n"


def available() -> bool:
    return shutil.which("dot") is not None


@functools.lru_cache(maxsize=256)
def _render(source: str) -> str | None:
    try:
        proc = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    svg = proc.stdout
    start = svg.find("<svg")          # drop the XML prolog and DOCTYPE: the SVG goes inline into HTML
    return svg[start:] if start >= 0 else None


def svg(chain: dict[str, Any]) -> str | None:
    """Inline SVG of the chain, or None without graphviz. Chains shared by several cells are laid out once."""
    if not available():
        return None
    return _render(dot_source(json.loads(json.dumps(chain))))
