"""Every fault parameter has a declared type, and ``testbed validate`` refuses a wrongly typed one at its line.

~150 files, each with exactly one bad parameter (text where a number belongs, nothing, out of range, an unknown
choice, a record type that does not exist, a zone or server the scenario lacks, ...), built from the fault
registry so that every kind of parameter is covered. Before the types, all of these passed validate and 25 gave a
traceback at build or run (issue 9).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from testbed.cli.main import cli
from testbed.errors import TestbedError
from testbed.faults import registry
from testbed.scenario.model import ParamType

ROOT = Path(__file__).resolve().parents[2]
FILES = 150
GOOD: dict[str, Any] = {"zone": "example.jp.", "rrset": "www.example.jp./A", "name": "nosuchname.example.jp.",
                        "child": "example.jp.", "inception": "-1d", "expiration": "+1d", "key": "ksk", "flags": 257,
                        "signer_zone": "jp."}


def _bad_values(ptype: ParamType) -> list[Any]:
    """Values the type must refuse."""
    if ptype.kind in ("int", "number"):
        out: list[Any] = ["x", None, [1], True]
        if ptype.kind == "int":
            out.append(1.5)
        if ptype.low is not None:
            out.append(int(ptype.low) - 1)
        if ptype.high is not None:
            out.append(int(ptype.high) + 1)
        out += list(ptype.exclude[:1])
        if ptype.one_of:
            out.append(max(ptype.one_of) + 1)
        return out
    return {"bool": ["maybe", 1, None], "choice": ["nope", 7, None], "zone": [5, "absent.jp.", "a b"],
            "server": ["nosuch", 5], "rrset": ["www.example.jp./TYPE65536", "nonsense", "nosuch.example.jp./A"]
            + ([] if ptype.all_word else ["all"]), "name": ["a..b.", 7, "www.elsewhere."],
            "offset": ["2 days", "+99999d", None], "hex": ["xyz", "abc"], "types": [["NOPE"], "TYPE65536"],
            "text": [None, [1], {"a": 1}]}[ptype.kind]


def _cases() -> list[tuple[str, str, Any]]:
    """FILES cases drawn round-robin over the parameter kinds (most faults take a zone: without this, zones would
    crowd out the rest), seeded so the files are the same on every run."""
    by_kind: dict[str, list[tuple[str, str, Any]]] = {}
    for fid, fault in registry().items():
        for name, ptype in fault.types.items():
            by_kind.setdefault(ptype.kind, []).extend((fid, name, bad) for bad in _bad_values(ptype))
    rng = random.Random(9)
    for cases in by_kind.values():
        rng.shuffle(cases)
    picked: list[tuple[str, str, Any]] = []
    while len(picked) < FILES:
        for cases in by_kind.values():
            if cases and len(picked) < FILES:
                picked.append(cases.pop())
    return sorted(picked, key=lambda c: (c[0], c[1], repr(c[2])))


def _write(folder: Path, index: int, fault_id: str, param: str, bad: Any) -> tuple[Path, int]:
    """The scenario file and the line of the bad parameter."""
    fault = registry()[fault_id]
    params = {p: GOOD[p] for p in ("zone", *fault.required) if p in fault.types and p in GOOD}
    params.pop(param, None)
    lines = ["name: typed-param", "faults:", f"  - fault: {fault_id}"]
    lines += [f"    {key}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
              for key, value in params.items()]
    lines.append(f"    {param}: {yaml.safe_dump(bad, default_flow_style=True).strip().removesuffix('...').strip()}")
    bad_line = len(lines)
    lines += ["checks:", "  - query: www.example.jp. A", "    expect: bogus"]
    path = folder / f"{index:03d}-{fault_id}-{param}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, bad_line


CASES = _cases()


def test_every_parameter_has_a_type() -> None:
    for fault in registry().values():
        assert set(fault.types) == set(fault.params), fault.id


def test_cases_cover_every_kind_of_parameter() -> None:
    kinds = {registry()[fid].types[param].kind for fid, param, _ in CASES}
    assert len(CASES) == FILES
    assert kinds >= {"int", "bool", "choice", "zone", "server", "rrset", "name"}


@pytest.mark.parametrize("index", range(0, FILES, 10))
def test_wrongly_typed_parameter_fails_validate_at_its_line(tmp_path: Path, index: int) -> None:
    """Ten files per test id, so a failure names a small group; the messages must name file:line and a fix."""
    problems = []
    for i, (fault_id, param, bad) in enumerate(CASES[index:index + 10], index):
        path, bad_line = _write(tmp_path, i, fault_id, param, bad)
        fault_line = 3
        try:
            cli.main(args=["validate", str(path)], prog_name="testbed", standalone_mode=False)
        except TestbedError as exc:
            if exc.file != str(path) or exc.line not in (bad_line, fault_line) or not exc.fix:
                problems.append(f"{path.name} ({param}: {bad!r}): wrong place or no fix: {exc}")
            continue
        problems.append(f"{path.name} ({param}: {bad!r}): validate accepted it")
    assert not problems, "\n".join(problems)


def test_validate_command_exits_2_on_a_wrongly_typed_parameter(tmp_path: Path) -> None:
    fault_id, param, bad = next(c for c in CASES if c[2] == "x")
    path, line = _write(tmp_path, 0, fault_id, param, bad)
    done = subprocess.run([sys.executable, "-m", "testbed.cli.main", "validate", str(path)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:{line}:" in done.stderr and "Traceback" not in done.stderr
