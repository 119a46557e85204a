"""The HTML matrix from verdicts judged on real dnspython messages: every cell, every detail, hostile text escaped.

The same verdicts also go through the JUnit writer, checked against the common JUnit shape (``junit_shape_problems``,
which the conformance-suite integration test applies to a real run's file too).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from testbed.report.html import render, write_html
from testbed.report.junit import junit_tree, write_junit
from testbed.run.checks import Verdict, evaluate
from testbed.run.observation import Observation
from testbed.scenario.model import Check, Expectation, Override

RESOLVERS = [("bind", '9.18.28 <beta> & "q"'), ("knot", "5.6.0"), ("unbound", "1.17.1")]
WHEN = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
HOSTILE_LOG = '</pre><script>alert("log")</script> & <img src=x onerror=alert(1)> \x1b[31mred\x1b[0m'
HOSTILE_EDE = '<b>bold</b> & "quoted"'


def reply(qname: str, rcode: int = dns.rcode.NOERROR, *, ad: bool = False, answer: tuple[str, ...] = (),
          ede: tuple[tuple[int, str], ...] = (), cd: bool = False) -> dns.message.Message:
    """A resolver's answer as the probe would get it: built, sent to wire format and parsed back."""
    query = dns.message.make_query(qname, "A", want_dnssec=True)
    if cd:
        query.flags |= dns.flags.CD
    message = dns.message.make_response(query)
    message.set_rcode(rcode)
    if ad:
        message.flags |= dns.flags.AD
    message.use_edns(0, dns.flags.DO, 1232, options=[dns.edns.EDEOption(code, text) for code, text in ede])
    for rdata in answer:
        message.answer.append(dns.rrset.from_text(qname, 300, "IN", "A", rdata))
    return dns.message.from_wire(message.to_wire())


WWW, MAIL, GONE = "www.example.jp.", "mail.example.jp.", "gone.example.jp."
SECURE_WWW = Observation.from_messages(reply(WWW, ad=True, answer=("192.0.2.80",)), None, WWW, "A")
SECURE_MAIL = Observation.from_messages(reply(MAIL, ad=True, answer=("192.0.2.25",)), None, MAIL, "A")
BOGUS_7 = Observation.from_messages(reply(WWW, dns.rcode.SERVFAIL, ede=((7, HOSTILE_EDE),)),
                                    reply(WWW, answer=("192.0.2.80",), cd=True), WWW, "A")
BOGUS_BARE = Observation.from_messages(reply(WWW, dns.rcode.SERVFAIL), reply(WWW, answer=("192.0.2.80",), cd=True),
                                       WWW, "A")
INSECURE_NX = Observation.from_messages(reply(GONE, dns.rcode.NXDOMAIN), None, GONE, "A")
TIMEOUT = Observation.from_messages(None, None, WWW, "A", error="no answer from 10.53.0.2 within 5s")

BIND_NO_EDE = Override("bind", Expectation("bogus", ede=()), "BIND 9.18 sends no DNSSEC EDE codes",
                       "ISC BIND 9.20 release notes")
EXPIRED = Check(WWW, "A", Expectation("bogus", ede=(7,)), (BIND_NO_EDE,), reference="RFC 4035 section 5.3.1")
MAIL_OK = Check(MAIL, "A", Expectation("secure", answer=("192.0.2.25",)), reference="RFC 4035 section 5")
NX = Check(GONE, "A", Expectation("secure", rcode="NXDOMAIN"), reference="RFC 4035 section 5.4")
SIG = Path("scenarios/conformance/signatures/rrsig-expired.yaml")
DEN = Path("scenarios/conformance/denial/nsec-missing.yaml")


def judged(check: Check, resolver: str, obs: Observation, scenario: str, file: Path, log: str = "") -> Verdict:
    verdict = evaluate(check, resolver, obs, scenario=scenario, file=file, duration_ms=4.5)
    # the runner attaches the log window to fail and error only; do the same, so the page must not show others
    return replace(verdict, log_excerpt=log) if verdict.status in ("fail", "error") else verdict


def verdicts() -> list[Verdict]:
    return [
        judged(EXPIRED, "unbound", BOGUS_7, "rrsig-expired", SIG),                   # pass
        judged(MAIL_OK, "unbound", SECURE_MAIL, "rrsig-expired", SIG),               # pass
        judged(EXPIRED, "bind", BOGUS_BARE, "rrsig-expired", SIG),                   # xfail
        judged(MAIL_OK, "bind", SECURE_MAIL, "rrsig-expired", SIG),                  # pass
        judged(EXPIRED, "knot", SECURE_WWW, "rrsig-expired", SIG, HOSTILE_LOG),      # fail
        judged(MAIL_OK, "knot", SECURE_MAIL, "rrsig-expired", SIG),                  # pass
        judged(NX, "unbound", INSECURE_NX, "nsec-missing", DEN, "unbound: <timeout & retry>"),  # fail
        judged(NX, "bind", TIMEOUT, "nsec-missing", DEN, "bind: no servers could be reached"),  # error
        # knot did not run nsec-missing: its cell must say so rather than vanish
    ]


def test_fixture_statuses() -> None:
    assert [v.status for v in verdicts()] == ["pass", "pass", "xfail", "pass", "fail", "pass", "fail", "error"]


class Page(HTMLParser):
    """The parsed page: every element with its attributes, and the text inside each element that has an id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()

    VOID = {"meta", "br", "input", "img", "link", "hr"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag not in self.VOID:
            self._open.append((tag, attributes.get("id")))
            if attributes.get("id"):
                self.texts[attributes["id"]] = []

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id].append(data)

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.texts[element_id]).split())

    def find(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        """Elements of ``tag`` whose attributes include ``wanted`` (class matches one class among several)."""
        found = []
        for name, attrs in self.elements:
            if name != tag:
                continue
            if all((value in attrs.get("class", "").split()) if key == "class_" else attrs.get(key) == value
                   for key, value in wanted.items()):
                found.append(attrs)
        return found


def page() -> Page:
    return Page(render(verdicts(), "netns", RESOLVERS, generated=WHEN))


def test_every_scenario_resolver_pair_is_one_coloured_cell() -> None:
    p = page()
    cells = {(c["data-resolver"], c["id"]): c["class"].split() for c in p.find("td", class_="cell") if "id" in c}
    assert len(cells) == 5     # rrsig-expired x 3 resolvers, nsec-missing x 2
    by_row = {}
    for row in p.find("tr"):
        if "data-scenario" in row:
            by_row[row["data-scenario"]] = row["class"]
    assert by_row == {"rrsig-expired": "has-problems", "nsec-missing": "has-problems"}
    statuses = sorted((resolver, cls[1]) for (resolver, _), cls in cells.items())
    assert statuses == [("bind", "error"), ("bind", "xfail"), ("knot", "fail"), ("unbound", "fail"),
                        ("unbound", "pass")]
    # the scenario with several checks shows counts; a single check shows its status word
    texts = {p.text(cell_id): resolver for resolver, cell_id in cells}
    assert {"2 pass", "1 pass · 1 xfail", "1 pass · 1 fail", "fail", "error"} <= set(texts)
    # knot did not run nsec-missing: a grey cell, not a missing one
    assert len(p.find("td", class_="none")) == 1


def test_groups_follow_the_scenario_folders_in_run_order() -> None:
    groups = [body["data-group"] for body in page().find("tbody", class_="group")]
    assert groups == ["signatures", "denial"]


def test_each_cell_links_to_details_with_expected_vs_observed() -> None:
    p = page()
    cells = [c for c in p.find("td", class_="cell") if "id" in c]
    details = {d["id"]: d for d in p.find("article", class_="detail")}
    links = {a["href"] for a in p.find("a") if a.get("href", "").startswith("#d-")}
    assert len(details) == len(cells) and links == {f"#{d}" for d in details}
    for detail_id, detail in details.items():
        assert detail["data-cell"] in {c["id"] for c in cells}, detail_id

    by_cell = {d["data-cell"]: p.text(d["id"]) for d in details.values()}
    cell_of = {(c["data-resolver"], p.text(c["id"])): c["id"] for c in cells}

    unbound = by_cell[cell_of[("unbound", "2 pass")]]
    assert "www.example.jp. A" in unbound and "mail.example.jp. A" in unbound
    assert "one of 7" in unbound                              # expected EDE
    assert f"7 “{HOSTILE_EDE}”" in unbound                     # observed EDE code and text, unescaped by the parser
    assert "192.0.2.80 (NOERROR)" in unbound                  # the CD=1 answer
    assert "RFC reference: RFC 4035 section 5.3.1" in unbound
    assert "unbound 1.17.1" in unbound
    assert "log during this check" not in unbound             # passes carry no log

    bind = by_cell[cell_of[("bind", "1 pass · 1 xfail")]]
    assert "documented divergence: BIND 9.18 sends no DNSSEC EDE codes" in bind
    assert "the RFC expectation, not met here: bogus, EDE 7" in bind
    assert "divergence documented in: ISC BIND 9.20 release notes" in bind
    assert "log during this check" not in bind

    knot = by_cell[cell_of[("knot", "1 pass · 1 fail")]]
    assert "expected bogus, got secure" in knot and "knot log during this check" in knot

    error = by_cell[cell_of[("bind", "error")]]
    assert "no answer from 10.53.0.2 within 5s" in error and "bind: no servers could be reached" in error
    assert "NXDOMAIN" in error and "RFC 4035 section 5.4" in error


def test_hostile_text_is_escaped_not_interpreted() -> None:
    text = render(verdicts(), "netns", RESOLVERS, generated=WHEN)
    p = Page(text)
    # exactly our own script and our two <b> (backend, profile): nothing smuggled in by a log line, EDE text or version
    assert len(p.find("script")) == 1 and not p.find("img") and len(p.find("b")) == 2
    assert "&lt;/pre&gt;&lt;script&gt;alert(&quot;log&quot;)&lt;/script&gt; &amp; &lt;img" in text
    assert "9.18.28 &lt;beta&gt; &amp; &quot;q&quot;" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in text
    assert "\x1b" not in text                                  # terminal escapes do not reach the page
    knot_detail = next(d["id"] for d in p.find("article", class_="detail") if "knot" in p.text(d["id"]))
    assert '</pre><script>alert("log")</script> & <img src=x onerror=alert(1)>' in p.text(knot_detail)


def test_header_names_backend_versions_totals_and_divergences() -> None:
    p = page()
    header = p.text("totals")
    assert "4 pass" in header and "2 fail" in header and "1 xfail" in header and "1 error" in header
    assert "8 checks in 2 scenarios" in header
    table = p.text("resolvers")
    assert '9.18.28 <beta> & "q"' in table and "5.6.0" in table and "1.17.1" in table
    rows = {r["data-resolver"] for r in p.find("tr") if "data-resolver" in r}
    assert rows == {"bind", "knot", "unbound"}
    text = render(verdicts(), "netns", RESOLVERS, generated=WHEN)
    # bind: pass 1, xfail 1, fail 0, error 1 in the column order of the header (pass, divergences, fail, error)
    bind_row = re.search(r'<tr data-resolver="bind">(.*?)</tr>', text)
    assert bind_row is not None
    assert re.findall(r'class="n-(\w+)">(\d+)<', bind_row.group(1)) == [("pass", "1"), ("xfail", "1"),
                                                                         ("fail", "0"), ("error", "1")]
    assert "backend <b>netns</b>" in text and "2025-01-02 03:04 UTC" in text


def test_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    write_html(out, verdicts(), "netns", RESOLVERS)
    text = out.read_text(encoding="utf-8")
    p = Page(text)
    assert not p.find("link") and all("src" not in attrs for _, attrs in p.elements)
    assert not re.search(r"https?://|url\(|@import", text)
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text


def test_empty_run_still_renders() -> None:
    p = Page(render([], "docker", [], generated=WHEN))
    assert not p.find("td", class_="cell") and "0 checks in 0 scenarios" in p.text("totals")


# ---- the JUnit file of the same verdicts, against the common JUnit shape ---------------------------------------------

# The shape CI tools share (Jenkins' junit-10.xsd, with testcase properties and file as GitLab and the "common JUnit
# XML format" accept): allowed attributes, required attributes, and children in order, each at most once unless listed.
SHAPE: dict[str, tuple[set[str], set[str], list[str]]] = {
    "testsuites": ({"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp"}, set(),
                   ["testsuite*"]),
    "testsuite": ({"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp", "hostname", "id",
                   "package", "file"}, {"name", "tests"}, ["properties", "testcase*", "system-out", "system-err"]),
    "properties": (set(), set(), ["property*"]),
    "property": ({"name", "value"}, {"name", "value"}, []),
    "testcase": ({"name", "classname", "time", "file", "line", "assertions", "status"}, {"name", "classname"},
                 ["properties", "skipped|error|failure", "system-out", "system-err"]),
    "skipped": ({"message", "type"}, set(), []),
    "failure": ({"message", "type"}, set(), []),
    "error": ({"message", "type"}, set(), []),
    "system-out": (set(), set(), []),
    "system-err": (set(), set(), []),
}
COUNTS = ("tests", "failures", "errors", "skipped", "disabled")


def junit_shape_problems(root: ET.Element) -> list[str]:
    """Everything in ``root`` outside the common JUnit shape, and counts that disagree with the testcases."""
    problems: list[str] = []

    def walk(element: ET.Element, where: str) -> None:
        if element.tag not in SHAPE:
            problems.append(f"{where}: unknown element <{element.tag}>")
            return
        allowed, required, children = SHAPE[element.tag]
        here = f"{where}/{element.tag}"
        problems.extend(f"{here}: attribute {a!r} not allowed" for a in set(element.attrib) - allowed)
        problems.extend(f"{here}: attribute {a!r} missing" for a in required - set(element.attrib))
        for name in COUNTS:
            if name in element.attrib and not re.fullmatch(r"\d+", element.attrib[name]):
                problems.append(f"{here}: {name}={element.attrib[name]!r} is not a count")
        if "time" in element.attrib and not re.fullmatch(r"\d+(\.\d+)?", element.attrib["time"]):
            problems.append(f"{here}: time={element.attrib['time']!r} is not seconds")
        if not children and len(element):
            problems.append(f"{here}: <{element.tag}> takes no child elements")
        slot = 0
        for child in element:
            while slot < len(children) and child.tag not in children[slot].rstrip("*").split("|"):
                slot += 1
            if slot == len(children):
                problems.append(f"{here}: <{child.tag}> not allowed here (order: {', '.join(children)})")
                break
            if not children[slot].endswith("*"):
                slot += 1     # a slot without * takes one element only
            walk(child, here)

    walk(root, "")
    if problems:      # the tallies below read counts as numbers; only a well-formed file gets that far
        return problems
    if root.tag == "testsuites":
        suites = list(root)
        for name in ("tests", "failures", "errors", "skipped"):
            if name in root.attrib and int(root.attrib[name]) != sum(int(s.get(name, 0)) for s in suites):
                problems.append(f"testsuites {name} is not the sum of its suites'")
        for suite in suites:
            cases = suite.findall("testcase")
            tally = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                     "errors": sum(c.find("error") is not None for c in cases),
                     "skipped": sum(c.find("skipped") is not None for c in cases)}
            for name, count in tally.items():
                if suite.get(name) is not None and int(suite.get(name, 0)) != count:
                    problems.append(f"testsuite {suite.get('name')}: {name}={suite.get(name)}, testcases say {count}")
    return problems


def test_junit_of_the_same_verdicts_has_the_common_shape(tmp_path: Path) -> None:
    out = tmp_path / "j.xml"
    write_junit(out, verdicts(), resolvers=RESOLVERS, backend="netns")
    root = ET.parse(out).getroot()
    assert junit_shape_problems(root) == []
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(verdicts())
    assert {c.get("classname") for c in cases} == {"signatures", "denial"}
    names = [c.get("name") for c in cases]
    assert names[0] == "rrsig-expired [unbound] www.example.jp. A" and len(set(names)) == len(names)
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["resolver_version"] == dict(RESOLVERS)[props["resolver"]]
        assert props["reference"].startswith(("RFC", "ISC"))


def test_junit_shape_check_catches_what_ci_parsers_reject() -> None:
    """The checker must itself reject bad files, or a passing shape test would mean nothing."""
    bad = ET.fromstring('<testsuites><testsuite name="g" tests="1" failures="x">'
                        '<testcase name="a"><failure/><skipped/></testcase><bogus/></testsuite></testsuites>')
    problems = "\n".join(junit_shape_problems(bad))
    for needle in ("'classname' missing", "failures='x' is not a count", "<skipped> not allowed here",
                   "<bogus> not allowed here"):
        assert needle in problems, needle
    miscounted = ET.fromstring('<testsuites tests="3"><testsuite name="g" tests="2" skipped="0">'
                               '<testcase name="a" classname="g"><skipped/></testcase></testsuite></testsuites>')
    problems = "\n".join(junit_shape_problems(miscounted))
    for needle in ("testsuites tests is not the sum", "tests=2, testcases say 1", "skipped=0, testcases say 1"):
        assert needle in problems, needle


def test_junit_survives_control_characters_anywhere(tmp_path: Path) -> None:
    """A resolver version or reason with a terminal escape must not make the XML unparseable."""
    broken = [replace(v, reason=v.reason + "\x1b[0m") for v in verdicts()]
    out = tmp_path / "j.xml"
    write_junit(out, broken, resolvers=[("bind", "9.18\x00-dev"), ("knot", "5.6.0"), ("unbound", "1.17.1\x07")],
                backend="netns\x01")
    root = ET.parse(out).getroot()
    assert junit_shape_problems(root) == []
    versions = {p.get("value") for p in root.iter("property") if p.get("name") == "resolver_version"}
    assert versions == {"9.18\ufffd-dev", "5.6.0", "1.17.1\ufffd"}
    assert junit_tree(broken).getroot().get("tests") == str(len(broken))
