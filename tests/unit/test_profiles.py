"""Standards profiles: ``defaults`` renders each resolver's config unchanged, ``rfc2026`` adds the knobs each
software has for RFC 9905 (SHA-1 algorithms unsupported) and RFC 9276 (NSEC3 iteration limit), and nothing else.
The daemons' own checkers accept both renders: tests/integration/test_generation_configs.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from testbed.cli.main import cli
from testbed.errors import TestbedError
from testbed.resolvers import registry
from testbed.resolvers.base import ResolverContext
from testbed.resolvers.profiles import ITERATION_LIMIT, KNOBS, PROFILES, check_profile
from testbed.scenario.loader import load_scenario

DS = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
# the text each knob renders, per software and generation config dialect
SHA1_TEXT = {"bind": 'disable-algorithms "." { RSASHA1; NSEC3RSASHA1; };',
             "pdns@debian13": 'disabled_algorithms: ["5", "7"]'}
ITERATIONS_TEXT = {"unbound": f'val-nsec3-keysize-iterations: "1024 {ITERATION_LIMIT} 2048 {ITERATION_LIMIT} '
                              f'4096 {ITERATION_LIMIT}"',
                   "pdns": f"nsec3-max-iterations={ITERATION_LIMIT}",
                   "pdns@debian13": f"nsec3_max_iterations: {ITERATION_LIMIT}"}


def render(software: str, generation: str | None, profile: str, folder: Path) -> str:
    cls = registry()[software]
    adapter = cls.for_generation(generation) if generation else cls()
    adapter.profile = profile
    ctx = ResolverContext(address="10.53.0.101", subnet="10.53.0.0/24", folder=folder,
                          root_hints=(("a.root-servers.test.", "10.53.0.2"),), trust_anchor_ds=(DS,))
    return "\n".join(text for rel, text in sorted(adapter.render(ctx).items()) if rel not in cls.secret_files)


@pytest.mark.parametrize("generation", [None, "debian13"])
@pytest.mark.parametrize("software", sorted(KNOBS))
def test_rfc2026_adds_exactly_the_knobs_of_each_software(software: str, generation: str | None,
                                                         tmp_path: Path) -> None:
    key = f"{software}@{generation}" if generation and f"{software}@{generation}" in {**SHA1_TEXT,
                                                                                     **ITERATIONS_TEXT} else software
    defaults = render(software, generation, "defaults", tmp_path)
    rfc2026 = render(software, generation, "rfc2026", tmp_path)
    for table in (SHA1_TEXT, ITERATIONS_TEXT):
        want = table.get(key)
        assert want is None or (want in rfc2026 and want not in defaults), (software, generation, want)
    added = [line for line in rfc2026.splitlines() if line not in defaults.splitlines()]
    expected = [table[key] for table in (SHA1_TEXT, ITERATIONS_TEXT) if key in table]
    # every added line is a comment or one of the knobs above: the profile changes nothing else
    assert sorted(line.strip() for line in added if not line.strip().startswith(("#", "//"))) == sorted(expected), added
    if not expected:
        assert rfc2026 == defaults       # Knot Resolver 5: no knob, so the same config


def test_an_adapter_renders_defaults_unless_a_profile_is_set(tmp_path: Path) -> None:
    """Default behaviour is unchanged: a fresh adapter is the defaults profile (rendered files that hold a fresh
    secret, BIND's rndc.key, left out of the comparison)."""
    ctx = ResolverContext(address="10.53.0.101", subnet="10.53.0.0/24", folder=tmp_path,
                          root_hints=(("a.root-servers.test.", "10.53.0.2"),), trust_anchor_ds=(DS,))
    for cls in registry().values():
        fresh, chosen = cls(), cls()
        chosen.profile = "defaults"
        assert fresh.profile == "defaults"
        public = [rel for rel in fresh.render(ctx) if rel not in cls.secret_files]
        assert {r: fresh.render(ctx)[r] for r in public} == {r: chosen.render(ctx)[r] for r in public}


def test_unknown_profile_is_refused() -> None:
    assert check_profile("rfc2026") == "rfc2026" and set(PROFILES) == {"defaults", "rfc2026"}
    with pytest.raises(TestbedError, match="unknown profile"):
        check_profile("rfc1999")
    result = CliRunner().invoke(cli, ["run", "--profile", "rfc1999", "scenarios/quickstart"])
    assert result.exit_code == 2 and "rfc1999" in result.output


SCENARIO = """name: p
summary: s
reference: RFC 9905 section 2
zones:
  example.jp.:
    signing: {algorithm: 5}
checks:
  - query: www.example.jp. A
    expect: secure
    profiles:
      %s:
        expect: insecure
        resolver_overrides:
          knot: {versions: "5.6.0", expect: secure, reason: "no knob"}
"""


def test_a_check_has_its_own_expectation_under_a_profile(tmp_path: Path) -> None:
    from testbed.scenario.loader import load_scenario

    path = tmp_path / "p.yaml"
    path.write_text(SCENARIO % "rfc2026")
    check = load_scenario(path).checks[0]
    assert check.for_profile("defaults") is check and check.expect.outcome == "secure" and not check.overrides
    under = check.for_profile("rfc2026")
    assert under.expect.outcome == "insecure" and under.qname == check.qname
    assert [(o.resolver, o.expectation.outcome, o.versions) for o in under.overrides] == [("knot", "secure", "5.6.0")]


def test_an_unknown_profile_in_a_scenario_is_refused_with_its_line(tmp_path: Path) -> None:
    from testbed.scenario.loader import load_scenario

    path = tmp_path / "p.yaml"
    path.write_text(SCENARIO % "rfc1999")
    with pytest.raises(TestbedError) as info:
        load_scenario(path)
    assert "rfc1999" in info.value.message and info.value.line == 11


def test_the_json_report_names_a_profile_other_than_defaults(tmp_path: Path) -> None:
    import json

    from testbed.report.json_report import write_json

    write_json(tmp_path / "a.json", [], backend="netns", resolvers=[], profile="rfc2026")
    write_json(tmp_path / "b.json", [], backend="netns", resolvers=[])
    assert json.loads((tmp_path / "a.json").read_text())["profile"] == "rfc2026"
    assert "profile" not in json.loads((tmp_path / "b.json").read_text())


def _judged(profile: str) -> list:  # noqa: ANN202 - list of Verdict
    """The quickstart's first scenario judged on a made-up secure answer, as the runner stamps a verdict."""
    from dataclasses import replace

    from testbed.run.checks import evaluate
    from testbed.run.observation import Observation
    from tests.conftest import QUICKSTART

    scenario = load_scenario(sorted(QUICKSTART.glob("*.yaml"))[0])
    answer = Observation(rcode="NOERROR", ad=True)
    return [replace(evaluate(check, "unbound", answer), scenario=scenario.name, file=scenario.file, profile=profile)
            for check in scenario.checks]


def test_every_report_names_the_profile_its_verdicts_were_judged_under(tmp_path: Path) -> None:
    import json
    import xml.etree.ElementTree as ET

    from testbed.report.console import summary_line
    from testbed.report.html import render
    from testbed.report.json_report import write_json
    from testbed.report.junit import write_junit

    verdicts = _judged("rfc2026")
    write_json(tmp_path / "r.json", verdicts, backend="netns", resolvers=[("unbound", "1.17.1")])
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["profile"] == "rfc2026" and {r["profile"] for r in doc["results"]} == {"rfc2026"}
    write_junit(tmp_path / "r.xml", verdicts, backend="netns")
    tree = ET.parse(tmp_path / "r.xml")
    assert {p.get("value") for p in tree.iter("property") if p.get("name") == "profile"} == {"rfc2026"}
    assert '<b id="profile">rfc2026</b>' in render(verdicts, "netns", [])
    assert summary_line(verdicts).endswith("(profile rfc2026)")
    # vendor defaults: the JSON and the summary line stay as they were before profiles; JUnit and HTML say it
    defaults = _judged("defaults")
    write_json(tmp_path / "d.json", defaults, backend="netns", resolvers=[])
    d_doc = json.loads((tmp_path / "d.json").read_text())
    assert "profile" not in d_doc and all("profile" not in r for r in d_doc["results"])
    assert "profile" not in summary_line(defaults)
    assert '<b id="profile">defaults</b>' in render(defaults, "netns", [])


def test_a_merge_of_two_profiles_keeps_each_result_s_profile_and_diff_says_they_differ(tmp_path: Path) -> None:
    import json

    from testbed.report.json_report import write_json
    from testbed.report.merge import merge_documents, verdicts_from_document
    from tests.unit.test_cli import run_testbed

    write_json(tmp_path / "d.json", _judged("defaults"), backend="netns", resolvers=[])
    write_json(tmp_path / "r.json", _judged("rfc2026"), backend="netns", resolvers=[])
    docs = [json.loads((tmp_path / name).read_text()) for name in ("d.json", "r.json")]
    # a document of an older run named its profile only at the top: the merge still tells its results apart
    for record in docs[1]["results"]:
        del record["profile"]
    merged = merge_documents(docs)
    assert merged["profile"] == "defaults+rfc2026"
    half = len(merged["results"]) // 2
    assert [v.profile for v in verdicts_from_document(merged)] == ["defaults"] * half + ["rfc2026"] * half
    proc = run_testbed("diff", str(tmp_path / "d.json"), str(tmp_path / "r.json"))
    assert proc.stdout.splitlines()[0] == "profile: defaults -> rfc2026", proc.stdout
