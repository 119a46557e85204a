"""The lab's virtual clock on real resolvers (netns backend): every resolver runs on the time shim, an ``advance``
past the signatures' expiry turns a secure name bogus, and a cached record is fetched again once ``advance`` has
taken it past its TTL. No real waiting: the lab clock jumps, the resolvers follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.lab.lab import Lab
from testbed.run.checks import Verdict
from testbed.run.runner import LabPool, RunResult, run
from testbed.run.select import known_names
from testbed.scenario import load_scenario
from testbed.scenario.model import Scenario
from tests.conftest import QUICKSTART, requires_netns
from tests.integration.test_resolvers_quickstart import available

pytestmark = [pytest.mark.integration, requires_netns]

EXPIRY = """\
name: signatures-expire
summary: example.jp.'s signer stops; forty days on its signatures (valid thirty) have expired
phases:
  - name: fresh
    checks:
      - query: www.example.jp. A
        expect: secure
  - name: forty-days-later
    actions:
      - freeze-zone: example.jp.
      - advance: 40d
    checks:
      - query: www.example.jp. A
        expect: bogus
        ede: [7]
        resolver_overrides:
          bind: {ede: [], reason: BIND 9.18 sends no DNSSEC EDE codes}
      - query: jp. SOA
        expect: secure
  - name: signer-back
    summary: re-signed; two hours on, past every cached bogus answer (PowerDNS keeps them an hour)
    actions:
      - unfreeze-zone: example.jp.
      - advance: 2h
    checks:
      - query: www.example.jp. A
        expect: secure
"""

TTL = """\
name: cached-until-ttl
summary: www.example.jp. A (TTL 300 s) changes while cached; resolvers see the change only after the TTL
phases:
  - name: cached
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.80"]
  - name: changed-while-cached
    actions:
      - set-records: {zone: example.jp., name: www, type: A, data: 192.0.2.81}
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.80"]
  - name: ttl-passed
    actions:
      - advance: 400s
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.81"]
"""


@pytest.fixture(scope="module")
def labs() -> list[Lab]:
    return []


@pytest.fixture(scope="module")
def pool(labs: list[Lab]) -> Iterator[LabPool]:
    resolvers = available()
    if not resolvers:
        pytest.skip("no resolver installed")
    with LabPool("netns", resolvers, on_lab=labs.append) as pool:
        yield pool


def timeline(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "timeline.yaml"
    path.write_text(text)
    return load_scenario(path, **known_names())


def run_one(pool: LabPool, scenario: Scenario) -> RunResult:
    return run([scenario], pool.resolvers, pool.backend, pool=pool)


def by_phase(verdicts: list[Verdict], phase: str) -> list[Verdict]:
    return [v for v in verdicts if v.phase == phase]


def test_every_resolver_runs_on_the_shim(pool: LabPool, labs: list[Lab], tmp_path: Path) -> None:
    run_one(pool, timeline(tmp_path, TTL))
    (lab,) = labs
    for name, running in lab.resolvers.items():
        assert lab.on_virtual_clock(name), name
        pid = running.host.proc.pid  # type: ignore[attr-defined]  # NetnsHost: ip netns exec execs the daemon
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libtestbed-timeshim.so" in maps, f"{name} (pid {pid}) has not loaded the time shim"


def test_advance_past_signature_expiry_turns_secure_into_bogus(pool: LabPool, tmp_path: Path) -> None:
    result = run_one(pool, timeline(tmp_path, EXPIRY))
    bad = [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.reason}" for v in result.verdicts
           if v.status not in ("pass", "xfail")]
    assert not bad, "\n".join(bad)
    expired = [v for v in by_phase(result.verdicts, "forty-days-later") if v.check.qname == "www.example.jp."]
    assert {v.resolver for v in expired} == set(pool.resolvers)
    assert all(v.observation.outcome == "bogus" for v in expired)
    # the rest of the hierarchy was re-signed at the new time: only the frozen zone's signatures aged
    assert all(v.observation.outcome == "secure" for v in by_phase(result.verdicts, "signer-back"))


def test_a_cached_record_is_fetched_again_after_advance_past_its_ttl(pool: LabPool, tmp_path: Path) -> None:
    result = run_one(pool, timeline(tmp_path, TTL))
    bad = [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.reason}" for v in result.verdicts
           if v.status != "pass"]
    assert not bad, "\n".join(bad)
    # no flush between the phases: the old answer came from each resolver's cache, the new one after the TTL
    for resolver in pool.resolvers:
        answers = [v.observation.answer for v in result.verdicts if v.resolver == resolver]
        assert answers == [["192.0.2.80"], ["192.0.2.80"], ["192.0.2.81"]], resolver


def test_a_plain_scenario_after_a_timeline_runs_on_real_time_again(pool: LabPool, labs: list[Lab],
                                                                  tmp_path: Path) -> None:
    run_one(pool, timeline(tmp_path, EXPIRY))
    assert labs[0].clock_offset > 0
    plain = load_scenario(QUICKSTART / "secure-a.yaml", **known_names())
    result = run_one(pool, plain)
    assert labs[0].clock_offset == 0
    assert result.verdicts and all(v.status == "pass" for v in result.verdicts), \
        [f"{v.resolver} {v.check.query_text}: {v.reason}" for v in result.verdicts if v.status != "pass"]


REAL_TIME = """\
name: real-time-fallback
summary: without the time shim, advance waits for real; a 5 s TTL keeps the wait short
phases:
  - name: cached
    actions:
      - set-records: {zone: example.jp., name: www, type: A, data: 192.0.2.80, ttl: 5}
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.80"]
  - name: changed-while-cached
    actions:
      - set-records: {zone: example.jp., name: www, type: A, data: 192.0.2.81}
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.80"]
  - name: ttl-passed
    actions:
      - advance: 7s
    checks:
      - query: www.example.jp. A
        expect: secure
        answer: ["192.0.2.81"]
"""


def test_without_the_shim_advance_is_a_short_real_wait(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fallback for a resolver that cannot run on the virtual clock (TESTBED_VIRTUAL_CLOCK=0 here for all)."""
    monkeypatch.setenv("TESTBED_VIRTUAL_CLOCK", "0")
    resolvers = available()
    if not resolvers:
        pytest.skip("no resolver installed")
    labs: list[Lab] = []
    with LabPool("netns", resolvers, on_lab=labs.append) as pool:
        result = run_one(pool, timeline(tmp_path, REAL_TIME))
        (lab,) = labs
        assert not any(lab.on_virtual_clock(name) for name in lab.resolvers)
        assert lab.clock_offset == 0
        for name, running in lab.resolvers.items():
            pid = running.host.proc.pid  # type: ignore[attr-defined]
            assert "libtestbed-timeshim.so" not in Path(f"/proc/{pid}/maps").read_text(), name
    bad = [f"{v.resolver} [{v.phase}] {v.check.query_text}: {v.reason}" for v in result.verdicts if v.status != "pass"]
    assert not bad, "\n".join(bad)
    with pytest.raises(ScenarioError, match="would take that long in real time"), \
            LabPool("netns", resolvers[:1]) as pool:
        run_one(pool, timeline(tmp_path, EXPIRY))
