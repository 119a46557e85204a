"""Two result JSONs, cell by cell: where do the verdicts of one run (the builtin server, say) differ from another's
(the same scenarios on NSD)? A cell is one scenario x phase x check x resolver.

``python -m testbed.report.differential BASE.json OTHER.json [--markdown]`` prints the differing cells. Unlike
``testbed diff`` (testbed/report/merge.py: what the resolvers answered, outcome, rcode, AD, EDE), it compares each
cell's status too and quotes the lab's reason: a zone a real server sanitised often keeps the resolvers' outcome
and turns the cell into an ``error``. ``compare`` is plain data in, plain data out.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Key = tuple[str, str | None, str, str]        # scenario, phase, query, resolver


@dataclass(frozen=True)
class Cell:
    scenario: str
    phase: str | None
    query: str
    resolver: str
    base: dict[str, Any] | None               # the result record of each run, None where the run lacks the cell
    other: dict[str, Any] | None

    @property
    def base_text(self) -> str:
        return _cell_text(self.base)

    @property
    def other_text(self) -> str:
        return _cell_text(self.other)

    @property
    def why(self) -> str:
        """The other run's reason when it says the server changed the data (the lab's own words), else ""."""
        reason = (self.other or {}).get("reason", "")
        return reason if "sanitised" in reason or "cannot express" in reason else ""


def _cell_text(record: dict[str, Any] | None) -> str:
    if record is None:
        return "absent"
    return f"{record['status']} ({record.get('outcome', '?')})"


def _key(record: dict[str, Any]) -> Key:
    return (record["scenario"], record.get("phase"), record["query"], record["resolver"])


def load_results(path: Path) -> dict[Key, dict[str, Any]]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return {_key(r): r for r in document.get("results", [])}


def compare(base: dict[Key, dict[str, Any]], other: dict[Key, dict[str, Any]]) -> list[Cell]:
    """Cells whose status or observed outcome differ, or that only one run has; in the base run's order."""
    cells = []
    for key in list(base) + [k for k in other if k not in base]:
        a, b = base.get(key), other.get(key)
        if a is not None and b is not None and (a["status"], a.get("outcome")) == (b["status"], b.get("outcome")):
            continue
        cells.append(Cell(*key, base=a, other=b))
    return cells


def to_markdown(cells: list[Cell], base_name: str, other_name: str) -> str:
    lines = [f"| scenario | query | resolver | {base_name} | {other_name} | why |", "|---|---|---|---|---|---|"]
    for c in cells:
        why = c.why.replace("|", "\\|")[:300]
        lines.append(f"| {c.scenario}{' / ' + c.phase if c.phase else ''} | {c.query} | {c.resolver} | "
                     f"{c.base_text} | {c.other_text} | {why} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.report.differential", description=__doc__)
    parser.add_argument("base", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--markdown", action="store_true", help="a Markdown table instead of lines")
    args = parser.parse_args(argv)
    base, other = load_results(args.base), load_results(args.other)
    cells = compare(base, other)
    if args.markdown:
        sys.stdout.write(to_markdown(cells, args.base.stem, args.other.stem))
    else:
        for c in cells:
            print(f"{c.scenario}{' / ' + c.phase if c.phase else ''}  {c.query}  {c.resolver}: "
                  f"{c.base_text} -> {c.other_text}" + (f"  [{c.why}]" if c.why else ""))
    print(f"{len(cells)} of {len(base)} cells differ", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
