"""The scenario loader: good files become the typed model; bad files fail with file:line, the key and a fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from testbed.errors import ScenarioError
from testbed.scenario import (
    Check,
    Expectation,
    FaultSpec,
    Nsec3Params,
    Override,
    SigningSpec,
    load_paths,
    load_scenario,
    scenario_files,
)

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
FAULTS = {"rrsig-expired": {"zone", "rrset"}, "ds-mismatch": {"zone"}}
RESOLVERS = ("unbound", "bind", "knot-resolver", "powerdns")
KNOWN = {"known_faults": FAULTS, "known_resolvers": RESOLVERS, "known_topologies": ("jp",)}

GOOD = """\
name: expired-rrsig
summary: RRSIG over www.example.jp/A expired a day ago
reference: RFC 4035 section 5.3.1
topology: jp
zones:
  Example.JP:
    records: ["www 300 A 192.0.2.80", "mail 300 IN MX 10 mx"]
    replace_records: true
    servers: [child]
    signing: {algorithm: ECDSAP256SHA256, keys: csk, nsec3: {iterations: 0, salt: "", opt_out: true},
              ds_digests: [2, SHA384], validity_days: 7}
  unsigned.example.jp.:
    signing: false
    records: |
      @ 300 A 192.0.2.1
      ; a comment line
      txt 300 TXT "hello world"
faults:
  - fault: rrsig-expired
    zone: example.jp
    rrset: www.example.jp./A
resolvers: [unbound, bind]
checks:
  - query: www.example.jp A
    expect: bogus
    ede: 7
    answer: ["192.0.2.80"]
    resolver_overrides:
      bind: {ede: [], reason: "BIND 9.18 sends no DNSSEC EDE codes", reference: "ISC KB"}
  - query: nothing.example.jp. IN AAAA
    expect: secure
    rcode: nxdomain
    ede: [Signature Expired, dnssec-bogus]
    reference: RFC 4035 section 3.1.3
    resolver_overrides:
      unbound: {expect: insecure, reason: "unbound serves NSEC3 opt-out spans as insecure"}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_for(path: Path, **known: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **(known or KNOWN))  # type: ignore[arg-type]
    return info.value


# ---- a good file ---------------------------------------------------------------------------------------------------

def test_good_scenario_round_trip(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    sc = load_scenario(path, **KNOWN)  # type: ignore[arg-type]
    assert (sc.name, sc.file, sc.topology, sc.resolvers) == ("expired-rrsig", path, "jp", ("unbound", "bind"))
    assert sc.reference == "RFC 4035 section 5.3.1"

    example, unsigned = sc.zones
    assert example.name == "example.jp."                                  # normalised: absolute, lower case
    assert example.records == ("www 300 A 192.0.2.80", "mail 300 IN MX 10 mx")
    assert example.replace_records and example.servers == ("child",)
    assert example.signing == SigningSpec(algorithm=13, keys="csk", denial="nsec3",
                                          nsec3=Nsec3Params(iterations=0, salt="", opt_out=True),
                                          ds_digests=(2, 4), validity_days=7)
    assert example.where is not None and example.where.line == 6
    assert unsigned.signing == SigningSpec(signed=False)
    assert unsigned.records == ("@ 300 A 192.0.2.1", 'txt 300 TXT "hello world"')

    assert sc.faults == (FaultSpec("rrsig-expired", {"zone": "example.jp.", "rrset": "www.example.jp./A"},
                                   sc.faults[0].where),)
    assert sc.faults[0].where is not None and sc.faults[0].where.line == 19

    first, second = sc.checks
    assert first == Check(
        qname="www.example.jp.", qtype="A",
        expect=Expectation("bogus", ede=(7,), answer=("192.0.2.80",)),
        overrides=(Override("bind", Expectation("bogus", ede=(), answer=("192.0.2.80",)),
                            "BIND 9.18 sends no DNSSEC EDE codes", "ISC KB"),),
        reference="RFC 4035 section 5.3.1", where=first.where)
    assert first.where is not None and first.where.line == 24
    assert second.query_text == "nothing.example.jp. AAAA"
    assert second.expect == Expectation("secure", rcode="NXDOMAIN", ede=(7, 6))
    assert second.reference == "RFC 4035 section 3.1.3"
    # A changed outcome drops the base rcode only when it no longer fits (NXDOMAIN still fits insecure).
    assert second.override_for("unbound") == Override(
        "unbound", Expectation("insecure", rcode="NXDOMAIN", ede=(7, 6)),
        "unbound serves NSEC3 opt-out spans as insecure")


def test_minimal_scenario_defaults(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, """\
        name: minimal
        checks:
          - query: www.example.jp. A
            expect: secure
        """))
    assert (sc.topology, sc.resolvers, sc.zones, sc.faults, sc.summary) == ("jp", "all", (), (), "")
    assert sc.checks[0].reference is None and sc.checks[0].expect == Expectation("secure")


def test_nothing_is_checked_against_registries_when_none_are_given(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, """\
        name: free
        topology: somewhere
        faults: [some-new-fault]
        resolvers: anything
        checks: [{query: www.example.jp. A, expect: secure}]
        """))
    assert sc.faults[0].fault == "some-new-fault" and sc.resolvers == ("anything",)


# ---- the bad files in tests/data/bad -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "line", "words"), [
    ("misspelt-key", 3, ["'chekcs'", "did you mean 'checks'"]),
    ("unknown-fault", 5, ["unknown fault 'rrsig-expird'", "did you mean 'rrsig-expired'"]),
    ("unknown-fault-param", 5, ["'rrsett'", "did you mean 'rrset'"]),
    ("wrong-type", 5, ["'replace_records'", "true or false", "'sometimes'"]),
    ("bad-record", 6, ["'mail 300 A 192.0.2.256'", "example.jp."]),
    ("bad-query", 5, ["'AAAAA'", "did you mean 'AAAA'"]),
    ("override-without-reason", 7, ["bind override", "'reason'"]),
    ("yaml-syntax", 5, ["not valid YAML", "line 4"]),
    ("unknown-outcome", 4, ["'expect'", "'secured'", "did you mean 'secure'"]),
    ("missing-checks", 1, ["'checks'", "required"]),
    ("empty", 1, ["empty"]),
    ("bad-zone-name", 3, ["'example..jp.'", "not a valid zone name"]),
    ("unknown-resolver", 2, ["'bnid'", "did you mean 'bind'"]),
])
def test_bad_file_names_file_line_and_key(name: str, line: int, words: list[str]) -> None:
    path = BAD / f"{name}.yaml"
    err = error_for(path)
    assert err.file == str(path)
    assert err.line == line, str(err)
    assert err.fix
    text = str(err)
    assert text.startswith(f"{path}:{line}: ")
    for word in words:
        assert word in text
    assert "Traceback" not in text and "\n" not in text   # one paragraph, no traceback


def test_every_bad_file_is_covered() -> None:
    # A bad file without a test would pass silently; keep the folder and the table above in step.
    assert len(list(BAD.glob("*.yaml"))) == 13


# ---- more errors, inline -------------------------------------------------------------------------------------------

HEAD = "name: t\n"
CHECK = "checks:\n  - query: www.example.jp. A\n    expect: secure\n"


@pytest.mark.parametrize(("body", "line", "words"), [
    # nested unknown keys, with suggestions
    ("zones:\n  example.jp.:\n    record: []\n" + CHECK, 4, ["'record'", "did you mean 'records'"]),
    ("zones:\n  example.jp.:\n    signing: {algorthm: 13}\n" + CHECK, 4, ["'algorthm'", "'algorithm'"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    edee: [7]\n", 5, ["'edee'", "'ede'"]),
    # duplicate keys: YAML would silently keep the last one
    ("name: again\n" + CHECK, 2, ["'name' appears twice", "line 1"]),
    # wrong types
    ("checks: {query: x}\n", 2, ["'checks' must be a list"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    ede: [seven]\n", 5, ["unknown EDE code 'seven'"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    ede: [70000]\n", 5, ["between 0 and 65535"]),
    ("summary: [a, b]\n" + CHECK, 2, ["'summary' must be text", "a list"]),
    ("zones:\n  example.jp.:\n    signing: {validity_days: \"30\"}\n" + CHECK, 4, ["whole number"]),
    ("zones:\n  example.jp.:\n    signing: {algorithm: ECDSA-FOO}\n" + CHECK, 4, ["unknown DNSSEC algorithm"]),
    ("zones:\n  example.jp.:\n    signing: {keys: zsk}\n" + CHECK, 4, ["'zsk'", "ksk-zsk, csk"]),
    ("zones:\n  example.jp.:\n    signing: {denial: nsec, nsec3: {iterations: 1}}\n" + CHECK, 4, ["denial: nsec"]),
    ("zones:\n  example.jp.:\n    signing: {nsec3: {salt: xyz}}\n" + CHECK, 4, ["'salt'", "hexadecimal"]),
    ("zones:\n  example.jp.:\n    servers: [\"not a host\"]\n" + CHECK, 4, ["'not a host'", "host name"]),
    ("zones: [example.jp.]\n" + CHECK, 2, ["'zones' must map zone names"]),
    ("zones:\n  example.jp:\n    records: []\n  EXAMPLE.jp.:\n    records: []\n" + CHECK, 5, ["listed twice"]),
    # record lines
    ("zones:\n  example.jp.:\n    records: [\"www A 192.0.2.1\"]\n" + CHECK, 4, ["missing default TTL"]),
    ("zones:\n  example.jp.:\n    records: [\"www.other.jp. 300 A 192.0.2.1\"]\n" + CHECK, 4, ["outside zone"]),
    ("zones:\n  example.jp.:\n    records: [\"$INCLUDE /etc/passwd\"]\n" + CHECK, 4, ["directive"]),
    ("zones:\n  example.jp.:\n    records: [\"www 300 FOO bar\"]\n" + CHECK, 4, ["unknown rdatatype 'FOO'"]),
    ("zones:\n  example.jp.:\n    records: |\n      www 300 A 192.0.2.1\n\n      x 300 MX mail\n" + CHECK, 7,
     ["'x 300 MX mail'"]),
    # queries and expectations
    ("checks:\n  - query: www.example.jp.\n    expect: secure\n", 3, ["name and a type"]),
    ("checks:\n  - query: www..example.jp. A\n    expect: secure\n", 3, ["query name", "empty"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: bogus\n    rcode: NOERROR\n", 5, ["contradicts"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    rcode: NOPE\n", 5, ["not a DNS response code"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    answer: [\"192.0.2\"]\n", 5, ["not valid A data"]),
    ("checks:\n  - expect: secure\n", 3, ["no 'query' key"]),
    ("checks: []\n", 2, ["'checks' is empty"]),
    # overrides
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    resolver_overrides:\n"
     "      bind: {reason: because}\n", 6, ["changes nothing"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    resolver_overrides:\n"
     "      bnid: {expect: insecure, reason: because}\n", 6, ["unknown resolver 'bnid'", "'bind'"]),
    ("checks:\n  - query: www.example.jp. A\n    expect: secure\n    resolver_overrides:\n"
     "      bind: {expect: insecure, reason: \"\"}\n", 6, ["'reason'", "empty"]),
    # faults and topology
    ("faults:\n  - zone: example.jp.\n" + CHECK, 3, ["no 'fault' key"]),
    ("faults:\n  - fault: ds-mismatch\n    zone: \"bad zone\"\n" + CHECK, 4, ["'bad zone'"]),
    ("topology: jpp\n" + CHECK, 2, ["unknown topology 'jpp'", "did you mean 'jp'"]),
    ("resolvers: []\n" + CHECK, 2, ["empty list"]),
])
def test_inline_errors(tmp_path: Path, body: str, line: int, words: list[str]) -> None:
    err = error_for(write(tmp_path, HEAD + body))
    assert err.line == line, str(err)
    for word in words:
        assert word in str(err), str(err)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, "- name: x\n"))
    assert err.line == 1 and "must be a mapping" in str(err)


def test_tab_indentation_is_a_yaml_error_with_a_line(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, "name: t\nchecks:\n\t- query: www.example.jp. A\n"))
    assert err.line == 3 and "not valid YAML" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    err = error_for(tmp_path / "nope.yaml")
    assert "no such scenario file" in str(err)


# ---- load_paths ----------------------------------------------------------------------------------------------------

def test_load_paths_walks_folders_sorted_and_skips_other_files(tmp_path: Path) -> None:
    body = "checks: [{query: www.example.jp. A, expect: secure}]\n"
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    write(tmp_path, "name: z\n" + body, "b/deep/z.yml")
    write(tmp_path, "name: a\n" + body, "b/a.yaml")
    write(tmp_path, "name: c\n" + body, "c.yaml")
    write(tmp_path, "name: hidden\n" + body, ".hidden/h.yaml")
    (tmp_path / "notes.txt").write_text("not a scenario")
    single = write(tmp_path, "name: single\n" + body, "single.yaml")

    assert [s.name for s in load_paths([tmp_path / "b", single, tmp_path / "b" / "a.yaml"])] == ["a", "z", "single"]
    assert [p.name for p in scenario_files([tmp_path])] == ["a.yaml", "z.yml", "c.yaml", "single.yaml"]


def test_load_paths_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file or folder"):
        load_paths([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_paths([tmp_path / "empty"])
    with pytest.raises(ScenarioError) as info:
        load_paths([BAD], **KNOWN)  # type: ignore[arg-type]
    assert info.value.file is not None and info.value.line is not None


def test_load_paths_passes_registries_on(tmp_path: Path) -> None:
    write(tmp_path, "name: r\nresolvers: [bind]\n" + CHECK)
    with pytest.raises(ScenarioError, match="unknown resolver 'bind'"):
        load_paths([tmp_path], known_resolvers=["unbound"])
