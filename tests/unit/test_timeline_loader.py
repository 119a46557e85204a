"""Timeline scenarios in the loader: phases, actions checked against the action registry, durations, and errors
that name the file, the line and the fix. No network."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.scenario import load_paths, load_scenario, parse_duration
from testbed.scenario.loader import SCALAR_PARAM
from testbed.timeline import signatures
from tests.conftest import ROOT

ROLLOUT = ROOT / "scenarios" / "rollout"
KNOWN = {"known_actions": signatures(), "known_resolvers": ("unbound", "bind", "knot", "pdns")}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "timeline.yaml"
    path.write_text(body)
    return path


def error_for(path: Path, **known: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **(known or KNOWN))  # type: ignore[arg-type]
    return info.value


GOOD = """\
name: roll
reference: RFC 7583 section 3.2.1
phases:
  - name: publish
    summary: new ZSK published
    actions:
      - publish-key: {zone: Example.JP, key: zsk-2, role: zsk}
      - advance: 1d12h
    checks:
      - query: www.example.jp. A
        expect: secure
  - name: sign
    flush: true
    actions:
      - retire-key: {zone: example.jp., key: zsk}
      - withdraw-ds: example.jp.
      - advance: 400
  - name: check
    checks:
      - query: www.travel.jp. A
        expect: bogus
        readiness: ok
"""


def test_phases_round_trip(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD), **KNOWN)  # type: ignore[arg-type]
    assert scenario.is_timeline and scenario.checks == ()
    assert [p.name for p in scenario.phases] == ["publish", "sign", "check"]
    publish, sign, check = scenario.phases
    assert publish.summary == "new ZSK published" and not publish.flush and sign.flush
    assert [(a.action, a.params) for a in publish.actions] == [
        ("publish-key", {"zone": "example.jp.", "key": "zsk-2", "role": "zsk"}),   # zone names normalised
        ("advance", {"by": 36 * 3600}),                                           # the scalar form and a duration
    ]
    assert sign.actions[1].params == {"zone": "example.jp."}
    assert sign.actions[2].params == {"by": 400}                                  # a bare number is seconds
    assert publish.actions[0].where is not None and publish.actions[0].where.line == 7
    assert publish.checks[0].reference == "RFC 7583 section 3.2.1" and publish.checks[0].readiness is None
    assert sign.checks == () and check.checks[0].readiness == "ok"


def test_without_a_registry_a_scalar_keeps_its_value_under_a_fixed_key(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.phases[0].actions[1].params == {SCALAR_PARAM: "1d12h"}
    assert scenario.phases[0].actions[0].params["zone"] == "Example.JP"


@pytest.mark.parametrize(("text", "seconds"), [
    ("400s", 400), ("90m", 5400), ("2h", 7200), ("30d", 2592000), ("2w", 1209600), ("1d12h", 129600), ("75", 75),
    (" 3D ", 3 * 86400),
])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "2 h", "1.5h", "-1h", "2y", "h2"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


HEAD = "name: t\n"
PHASE = "phases:\n  - name: p\n    actions:\n"
CHECK = "    checks:\n      - query: www.example.jp. A\n        expect: secure\n"


@pytest.mark.parametrize(("body", "line", "words"), [
    # a scenario is either a timeline or not
    ("checks:\n  - query: x. A\n    expect: secure\nphases: []\n", 5, ["either top-level 'checks' or 'phases'"]),
    ("summary: nothing\n", 1, ["no 'checks' key", "'phases'"]),
    ("phases: []\n", 2, ["'phases' is empty"]),
    ("phases: {name: p}\n", 2, ["'phases' must be a list"]),
    # phases
    ("phases:\n  - actions: [advance: 1h]\n" + CHECK, 3, ["phase 1 has no 'name'"]),
    ("phases:\n  - name: p\n    checkz: []\n", 4, ["unknown key 'checkz'", "did you mean 'checks'"]),
    ("phases:\n  - name: p\n", 3, ["neither actions nor checks"]),
    ("phases:\n  - name: p\n    actions: [advance: 1h]\n", 3, ["no phase has checks"]),
    ("phases:\n  - name: p\n" + CHECK + "  - name: p\n" + CHECK, 7, ["two phases are named 'p'", "first on line 3"]),
    ("phases:\n  - name: p\n    flush: yes please\n" + CHECK, 4, ["'flush'", "true or false"]),
    # actions
    (PHASE + "      - advnce: 1h\n" + CHECK, 5, ["unknown action 'advnce'", "did you mean 'advance'"]),
    (PHASE + "      - advance: soon\n" + CHECK, 5, ["'soon'", "not a duration", "30d"]),
    (PHASE + "      - retire-key: {zone: example.jp., kye: zsk}\n" + CHECK, 5,
     ["no parameter 'kye'", "did you mean 'key'"]),
    (PHASE + "      - retire-key: example.jp.\n" + CHECK, 5, ["takes 'key: value' parameters", "retire-key: {"]),
    (PHASE + "      - retire-key: {zone: example.jp.}\n" + CHECK, 5, ["needs the parameter(s): key"]),
    (PHASE + "      - sign-zone: {zone: \"not a zone\"}\n" + CHECK, 5, ["'not a zone'", "not a valid zone name"]),
    (PHASE + "      - {advance: 1h, resign: jp.}\n" + CHECK, 5, ["one 'ACTION: PARAMETERS' pair"]),
    (PHASE + "      - set-ttl: {zone: jp., type: DNSKEY, ttl: 1h, ttl: 2h}\n" + CHECK, 5, ["appears twice"]),
    (PHASE + "      - submit-ds: {zone: jp., key: ksk, typo: maybe}\n" + CHECK, 5, ["true or false"]),
    # checks in phases
    ("phases:\n  - name: p\n    checks:\n      - query: x. A\n        expect: bogus\n        readiness: fine\n", 7,
     ["'readiness'", "'fine'", "ok"]),
])
def test_timeline_errors(tmp_path: Path, body: str, line: int, words: list[str]) -> None:
    err = error_for(write(tmp_path, HEAD + body))
    assert err.line == line, str(err)
    assert err.fix
    for word in words:
        assert word in str(err), str(err)


def test_a_bare_action_name_is_an_action_without_parameters(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, HEAD + PHASE + "      - resign\n" + CHECK), **KNOWN)  # type: ignore
    assert scenario.phases[0].actions[0].action == "resign"
    assert scenario.phases[0].actions[0].params == {}


def test_every_bundled_rollout_scenario_loads_with_the_registries() -> None:
    from testbed.run.select import known_names

    scenarios = load_paths([ROLLOUT], **known_names())
    assert scenarios and all(s.is_timeline for s in scenarios)
    names = {s.name for s in scenarios}
    # every playbook has its broken twin, and the flagship its failing variant
    playbooks = {n for n in names if not n.endswith("-too-early") and not n.startswith("jp-plan")}
    assert {f"{p}-too-early" for p in playbooks} <= names
    assert {"jp-plan", "jp-plan-wrong-ds"} <= names
    for scenario in scenarios:
        resolvers = scenario.resolvers
        # checks on every resolver after every phase; the RFC 5011 pair leaves out PowerDNS (no RFC 5011)
        assert all(p.checks for p in scenario.phases), scenario.name
        assert resolvers == "all" or "rfc5011" in scenario.name, scenario.name
