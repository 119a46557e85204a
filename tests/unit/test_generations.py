"""Resolver generations and version-keyed overrides: parsing, naming, images, exit codes. No lab needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.lab import images
from testbed.resolvers import registry
from testbed.resolvers.generations import get_generation, host_generation, resolver_with_generation
from testbed.scenario.versions import parse_range, parse_version, version_in_range
from tests.unit.test_cli import run_testbed


def test_a_generation_is_a_named_subclass_with_its_own_image() -> None:
    adapter = registry()["bind"].for_generation("debian13")
    assert adapter.name == "bind@debian13"
    assert adapter.base_name == "bind" and adapter.generation == "debian13"
    assert adapter.image == "bind@debian13"
    assert registry()["bind"]().generation is None        # the registered class is untouched


def test_image_tags_differ_per_generation_and_name_it() -> None:
    plain, d13 = images.image_tag("bind"), images.image_tag("bind@debian13")
    assert d13 == plain + "-debian13"
    assert images.split_key("unbound@debian13") == ("unbound", "debian13")


def test_unknown_generation_names_the_known_ones() -> None:
    with pytest.raises(ScenarioError) as err:
        get_generation("debian99")
    assert "debian12" in (err.value.fix or "") and "debian13" in (err.value.fix or "")


def test_netns_runs_only_the_hosts_generation() -> None:
    here = host_generation()
    other = "debian13" if here != "debian13" else "debian12"
    with pytest.raises(ScenarioError) as err:
        resolver_with_generation(registry()["unbound"](), other, "netns")
    assert "--backend docker" in (err.value.fix or "")


def test_host_generation_reads_os_release(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n')
    assert host_generation(release) == "debian13"
    assert host_generation(tmp_path / "missing") == "host"


def test_cli_unknown_generation_exits_2_with_the_fix() -> None:
    proc = run_testbed("run", "--resolver", "unbound@debian99", "--backend", "docker")
    assert proc.returncode == 2
    assert "debian99" in proc.stderr and "debian13" in proc.stderr


@pytest.mark.parametrize(("version", "spec", "inside"), [
    ("9.18.49-1~deb12u3-Debian", "<9.20", True),
    ("9.20.30-1~deb13u1-Debian", "<9.20", False),
    ("1:9.20.30-1~deb13u1", ">=9.20", True),
    ("9.18.49", "9.18", True),
    ("9.18.49", "9.18.49", True),
    ("9.18.4", "9.18.49", False),
    ("9.9.1", "<9.18", True),                # numeric, not text: 9.9 < 9.18
    ("1.17.1", ">=1.17,<1.20", True),
    ("1.26.2", ">=1.17,<1.20", False),
    ("5.4.9", "4.8.8 || 5.4.9", True),
    ("unknown", "<99", False),
])
def test_version_ranges(version: str, spec: str, inside: bool) -> None:
    assert version_in_range(version, spec) is inside


@pytest.mark.parametrize("bad", ["", "<", "9.x", "~9.18", "<9.20,", "9.18 9.20"])
def test_a_range_that_does_not_parse_says_how_to_write_one(bad: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_range(bad)
    assert "<9.20" in (err.value.fix or "")


def test_parse_version_drops_epoch_and_revision() -> None:
    assert parse_version("1:9.20.30-1~deb13u1") == (9, 20, 30)
    assert parse_version("Version 1.26.2") is None


# ---- version-keyed, falsifiable overrides ----------------------------------------------------------------------

SCENARIO = """name: lame
summary: a lame delegation
reference: RFC 1034
topology: jp
checks:
  - query: www.example.jp. A
    expect: servfail
    ede: [22]
    resolver_overrides:
      pdns: {{versions: "{versions}", {log}ede: [], reason: "PowerDNS Recursor 4.8 has no EDE 22"}}
"""
# what PowerDNS Recursor 4.8.8 logged (trace=fail) for this query in the lame-refused scenario
PDNS_LOG = """Dec 04 21:25:09 [5] www.example.jp: Nameservers: ns1.example.jp.(0.00ms)
Dec 04 21:25:09 [5] www.example.jp: ns1.example.jp (10.53.2.5) returned a Refused, trying sibling IP or NS
Dec 04 21:25:09 [5] www.example.jp: failed (res=-1)
Dec 04 21:25:09 [5] QM www.example.jp.|A child=www.example.jp: Step3 Final resolve: Server Failure/0
"""


def load_text(tmp_path: Path, text: str):  # noqa: ANN201 - a Scenario
    from testbed.scenario.loader import load_scenario

    path = tmp_path / "lame.yaml"
    path.write_text(text)
    return load_scenario(path)


def servfail_observation():  # noqa: ANN201 - an Observation
    import dns.message
    import dns.rcode

    from testbed.run.observation import Observation

    query = dns.message.make_query("www.example.jp.", "A", want_dnssec=True)
    reply = dns.message.make_response(query)
    reply.set_rcode(dns.rcode.SERVFAIL)
    return Observation.from_messages(reply, reply, "www.example.jp.", "A")


def test_override_applies_only_to_the_versions_it_was_measured_on(tmp_path: Path) -> None:
    from testbed.run.checks import evaluate

    check = load_text(tmp_path, SCENARIO.format(versions="4.8.8", log="log: 'www\\.example\\.jp: failed', ")).checks[0]
    obs = servfail_observation()
    assert evaluate(check, "pdns", obs, version="4.8.8", log=PDNS_LOG).status == "xfail"
    # PowerDNS 5 is held to the RFC expectation: the same plain SERVFAIL is a fail there (no EDE 22)
    outside = evaluate(check, "pdns@debian13", obs, family="pdns", version="5.4.9", log=PDNS_LOG)
    assert outside.status == "fail" and outside.override is None and "EDE" in outside.reason


def test_removing_the_logged_line_makes_the_check_fail(tmp_path: Path) -> None:
    from testbed.run.checks import evaluate

    check = load_text(tmp_path, SCENARIO.format(versions="4.8.8", log="log: 'www\\.example\\.jp: failed', ")).checks[0]
    obs = servfail_observation()
    assert evaluate(check, "pdns", obs, version="4.8.8", log=PDNS_LOG).status == "xfail"
    without = "\n".join(line for line in PDNS_LOG.splitlines() if "failed (res=-1)" not in line)
    verdict = evaluate(check, "pdns", obs, version="4.8.8", log=without)
    assert verdict.status == "fail" and "logged no line matching" in verdict.reason
    assert evaluate(check, "pdns", obs, version="4.8.8", log=None).status == "fail"


def test_servfail_override_without_log_is_refused_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        load_text(tmp_path, SCENARIO.format(versions="4.8.8", log=""))
    assert err.value.line == 10 and "log" in (err.value.fix or "")


def test_unreadable_version_range_is_refused_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        load_text(tmp_path, SCENARIO.format(versions="~4.8", log="log: 'failed', "))
    assert err.value.line == 10 and "<9.20" in (err.value.fix or "")


def test_cli_validate_exits_2_on_a_servfail_override_without_log(tmp_path: Path) -> None:
    path = tmp_path / "lame.yaml"
    path.write_text(SCENARIO.format(versions="4.8.8", log=""))
    proc = run_testbed("validate", str(path))
    assert proc.returncode == 2 and f"{path}:10" in proc.stderr


def test_every_bundled_override_names_its_versions_and_servfail_ones_their_log() -> None:
    from testbed.scenario.loader import load_scenario

    root = Path(__file__).resolve().parents[2] / "scenarios"
    overrides = [o for p in sorted(root.rglob("*.yaml")) for s in [load_scenario(p)]
                 for c in [*s.checks, *(c for ph in s.phases for c in ph.checks)] for o in c.overrides]
    assert overrides and all(o.versions for o in overrides)
    assert all(o.log for o in overrides if o.expectation.outcome == "servfail" and not o.expectation.ede)


def test_pdns_5_gets_yaml_settings_with_our_anchor_and_nothing_old_style(tmp_path: Path) -> None:
    import yaml

    from testbed.resolvers.base import ResolverContext

    ds = ". IN DS 12345 13 2 " + "AB" * 32
    ctx = ResolverContext(address="10.53.0.103", subnet="10.53.0.0/24", folder=tmp_path,
                          root_hints=(("a.root-servers.test.", "10.53.0.1"),), trust_anchor_ds=(ds,))
    files = registry()["pdns"].for_generation("debian13").render(ctx)
    assert "recursor.conf" not in files
    settings = yaml.safe_load(files["recursor.yml"])
    assert settings["dnssec"]["validation"] == "validate"
    assert settings["dnssec"]["trustanchors"] == [{"name": ".", "dsrecords": [f"12345 13 2 {'AB' * 32}"]}]
    assert settings["outgoing"]["dont_query"] == [] and settings["recursor"]["security_poll_suffix"] == ""
    assert settings["incoming"]["listen"] == ["10.53.0.103"]
    # debian12 (4.8) keeps the old-style file
    assert "recursor.conf" in registry()["pdns"]().render(ctx)


class FakeImages:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, tag: str) -> object:
        import docker.errors

        if tag not in self.present:
            raise docker.errors.ImageNotFound(tag)
        return object()


class FakeAPI:
    def build(self, **kwargs: object):  # noqa: ANN201 - the docker build stream
        assert kwargs["buildargs"] == {"DEBIAN_RELEASE": "trixie"}
        yield {"stream": "Step 1/4 : ARG DEBIAN_RELEASE=bookworm\n"}
        yield {"stream": "Step 3/4 : RUN apt-get update -qq && apt-get install -y bind9\n"}
        yield {"stream": "E: Unable to locate package bind9\n"}
        yield {"error": "The command '/bin/sh -c apt-get update' returned a non-zero code: 100"}


class FakeClient:
    def __init__(self, present: set[str]) -> None:
        self.images = FakeImages(present)
        self.api = FakeAPI()


def test_a_failed_trixie_build_names_the_image_the_step_and_the_retry() -> None:
    from testbed.errors import EnvironmentProblem

    tag = images.image_tag("bind@debian13")
    with pytest.raises(EnvironmentProblem) as err:
        images._run_build(FakeClient({"debian:trixie-slim"}), "bind@debian13", tag, None)
    message = str(err.value.message)
    assert tag in message and "debian13" in message and "Step 3/4 : RUN apt-get" in message
    assert "testbed images build bind@debian13" in (err.value.fix or "")


def test_a_missing_trixie_base_says_how_to_make_it() -> None:
    from testbed.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem) as err:
        images._run_build(FakeClient(set()), "unbound@debian13", images.image_tag("unbound@debian13"), None)
    assert "debian:trixie-slim" in err.value.message
    assert "compose/base/build-base.sh trixie" in (err.value.fix or "")
