"""--shard K/N, testbed merge and testbed diff on result documents. No lab needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.report.merge import diff_documents, format_diff, merge_documents, verdicts_from_document
from testbed.run.shard import assign, expected_cost, parse_shard, select_shard
from testbed.scenario.loader import load_scenario
from tests.conftest import QUICKSTART, ROOT
from tests.unit.test_cli import run_testbed


def quickstart():  # noqa: ANN201 - list of Scenario
    return [load_scenario(p) for p in sorted(QUICKSTART.glob("*.yaml"))]


def test_shards_partition_the_quickstart() -> None:
    scenarios = quickstart()
    for count in (2, 3):
        shards = [select_shard(scenarios, k, count) for k in range(1, count + 1)]
        names = [s.file.name for shard in shards for s in shard]
        assert sorted(names) == sorted(s.file.name for s in scenarios)      # complete and disjoint
        assert all(shards)


def test_shards_do_not_depend_on_the_order_or_place_of_the_files(tmp_path: Path) -> None:
    scenarios = quickstart()
    first = {s.file.name for s in select_shard(scenarios, 1, 2)}
    assert {s.file.name for s in select_shard(list(reversed(scenarios)), 1, 2)} == first
    for path in QUICKSTART.glob("*.yaml"):          # another checkout, elsewhere on another machine
        (tmp_path / path.name).write_text(path.read_text())
    moved = [load_scenario(p) for p in sorted(tmp_path.glob("*.yaml"))]
    assert {s.file.name for s in select_shard(moved, 1, 2)} == first


def test_shards_are_balanced_by_cost() -> None:
    scenarios = [load_scenario(p) for p in sorted((ROOT / "scenarios" / "conformance").rglob("*.yaml"))]
    shard_of = assign(scenarios, 2)
    loads = [sum(expected_cost(s) for s, k in zip(scenarios, shard_of, strict=True) if k == i) for i in (0, 1)]
    assert abs(loads[0] - loads[1]) <= max(expected_cost(s) for s in scenarios)


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_says_how(bad: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_shard(bad)
    assert "--shard 1/2" in (err.value.fix or "")


def result(scenario: str, resolver: str, outcome: str, rcode: str, ede: list[int], status: str = "pass",
           software: str | None = None, ad: bool = False) -> dict:
    return {"scenario": scenario, "file": f"scenarios/quickstart/{scenario}.yaml", "resolver": resolver,
            **({"software": software} if software else {}), "phase": None, "query": "www.example.jp. A",
            "expected": {"outcome": outcome, "rcode": None, "ede": None, "answer": None},
            "observed": {"rcode": rcode, "ad": ad, "ede": [{"code": c, "text": ""} for c in ede], "answer": [],
                         "cd_answer": None},
            "outcome": outcome, "status": status, "reason": "", "duration_ms": 1.0}


def doc(*results: dict, resolvers: list[str]) -> dict:
    return {"version": "0.1.0", "backend": "docker", "resolvers": [{"name": r, "version": "1"} for r in resolvers],
            "results": list(results), "summary": {}}


def test_merge_keeps_every_result_and_recounts() -> None:
    a = doc(result("expired-rrsig", "bind", "bogus", "SERVFAIL", [], "xfail"), resolvers=["bind"])
    b = doc(result("secure-a", "bind", "secure", "NOERROR", [], ad=True), resolvers=["bind"])
    merged = merge_documents([a, b])
    assert [r["scenario"] for r in merged["results"]] == ["expired-rrsig", "secure-a"]
    assert merged["summary"] == {"pass": 1, "fail": 0, "xfail": 1, "error": 0}
    verdicts = verdicts_from_document(merged)
    assert [v.status for v in verdicts] == ["xfail", "pass"]
    assert verdicts[0].observation.outcome == "bogus" and verdicts[1].observation.outcome == "secure"


def test_diff_matches_generations_by_software_and_names_what_changed() -> None:
    d12 = doc(result("expired-rrsig", "bind", "bogus", "SERVFAIL", [], "xfail"),
              result("secure-a", "bind", "secure", "NOERROR", [], ad=True), resolvers=["bind"])
    d13 = doc(result("expired-rrsig", "bind@debian13", "bogus", "SERVFAIL", [7], software="bind"),
              result("secure-a", "bind@debian13", "secure", "NOERROR", [], software="bind", ad=True),
              resolvers=["bind@debian13"])
    changes = diff_documents(d12, d13)
    assert len(changes) == 1 and changes[0].scenario == "expired-rrsig" and changes[0].resolver == "bind"
    assert changes[0].before.ede == () and changes[0].after.ede == (7,)
    text = "\n".join(format_diff(changes))
    assert "EDE 7" in text and "1 changed cells: bind 1" in text
    assert diff_documents(d12, d12) == []


def test_cli_merge_and_diff(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(doc(result("expired-rrsig", "bind", "bogus", "SERVFAIL", [], "xfail"),
                                resolvers=["bind"])))
    b.write_text(json.dumps(doc(result("expired-rrsig", "bind", "bogus", "SERVFAIL", [7]), resolvers=["bind"])))
    out = tmp_path / "m.json"
    proc = run_testbed("merge", str(a), str(b), "--json", str(out), "--junit", str(tmp_path / "m.xml"),
                       "--html", str(tmp_path / "m.html"))
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(out.read_text())["results"]) == 2
    assert (tmp_path / "m.xml").read_text().count("<testcase") == 2 and (tmp_path / "m.html").exists()
    proc = run_testbed("diff", str(a), str(b))
    assert proc.returncode == 1 and "expired-rrsig" in proc.stdout and "EDE 7" in proc.stdout
    assert run_testbed("diff", str(a), str(a)).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    proc = run_testbed("diff", str(a), str(bad))
    assert proc.returncode == 2 and str(bad) in proc.stderr


def test_diff_of_one_file_compares_its_two_generations(tmp_path: Path) -> None:
    both = tmp_path / "both.json"
    records = [{**result("expired-rrsig", "bind@debian13", "bogus", "SERVFAIL", [7], software="bind"),
                "generation": "debian13"},
               {**result("expired-rrsig", "bind", "bogus", "SERVFAIL", [], "xfail"), "generation": "debian12"},
               {**result("secure-a", "unbound", "secure", "NOERROR", [], ad=True), "generation": "debian12"},
               {**result("secure-a", "unbound@debian13", "secure", "NOERROR", [], software="unbound", ad=True),
                "generation": "debian13"}]
    both.write_text(json.dumps(doc(*records, resolvers=["bind", "bind@debian13", "unbound", "unbound@debian13"])))
    proc = run_testbed("diff", str(both))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert lines[0] == "generation: debian12 -> debian13"         # the older one first, whatever the file order
    assert "expired-rrsig" in lines and "EDE 7" in proc.stdout and lines[-1] == "1 changed cells: bind 1"
    one = tmp_path / "one.json"
    one.write_text(json.dumps(doc(records[1], resolvers=["bind"])))
    proc = run_testbed("diff", str(one))
    assert proc.returncode == 2 and str(one) in proc.stderr and "debian12" in proc.stderr
    assert "--resolver all@debian12 --resolver all@debian13" in proc.stderr and "Traceback" not in proc.stderr
