"""The served-vs-built comparison on a registry-sized zone: which names the sample holds, from the signed text
without parsing it whole, and from a dnspython zone. The zones are real: generated delegations signed by our
signer."""

from __future__ import annotations

import time

import dns.name
import dns.rdatatype
import dns.zone
import pytest

from testbed.auth.servers import served
from testbed.auth.servers.served import authoritative_rrsets, sample_zone, sample_zone_text, zone_to_compare
from testbed.build.generated import delegation_lines
from testbed.dnssec import SignOptions, generate_key
from testbed.dnssec.zonefile import sign_zone_text

ORIGIN = dns.name.from_text("jp.")
APEX = ("jp. 86400 IN SOA a.dns.jp. hostmaster.jp. 1 3600 900 1814400 900\njp. 86400 IN NS a.dns.jp.\n"
        "a.dns.jp. 86400 IN A 192.0.2.1\nexample.co.jp. 86400 IN NS ns.example.co.jp.\n"
        "ns.example.co.jp. 86400 IN A 192.0.2.7\nwww.jp. 300 IN A 192.0.2.80\n")


@pytest.fixture(scope="module")
def signed_text() -> str:
    now = int(time.time())
    keys = [generate_key(ORIGIN, 13, "ksk"), generate_key(ORIGIN, 13, "zsk")]
    unsigned = APEX + "".join(line + "\n" for line in delegation_lines("jp.", 2000, {"a", "co", "www", "dns"}))
    text, _ = sign_zone_text(unsigned, ORIGIN, keys,
                             SignOptions(inception=now - 3600, expiration=now + 86400, denial="nsec3",
                                         nsec3_opt_out=True), workers=1)
    return text


def _asked(zone: dns.zone.Zone) -> set[tuple[str, str]]:
    return {(name.to_text(), dns.rdatatype.to_text(rdataset.rdtype))
            for name, rdataset, _ in authoritative_rrsets(zone)}


def test_the_text_sample_holds_the_apex_the_probes_and_delegations_with_and_without_ds(signed_text: str) -> None:
    probes = [dns.name.from_text("www.jp."), dns.name.from_text("host.example.co.jp.")]
    sample = sample_zone_text(signed_text, ORIGIN, probes)
    assert sample is not None
    asked = _asked(sample)
    assert {("jp.", "SOA"), ("jp.", "DNSKEY"), ("jp.", "NS"), ("jp.", "NSEC3PARAM"), ("www.jp.", "A")} <= asked
    with_ds = {name for name, kind in asked if kind == "DS"}
    assert len(with_ds) >= served.SAMPLE_DELEGATIONS // 2
    without_ds = {name.to_text() for name in sample.nodes
                  if sample.nodes[name].get_rdataset(1, dns.rdatatype.NS) and name != ORIGIN} - with_ds
    assert len(without_ds) >= served.SAMPLE_DELEGATIONS // 2
    # spread over the zone, not the first names in canonical order
    assert max(with_ds) > "m"
    # the cut above the probe is in the sample, so the glue below it is not compared as the zone's own data
    assert sample.get_node("example.co.jp.") is not None
    assert not {name for name, _ in asked if name.endswith("example.co.jp.")}
    # every record of a sampled name came along: the RRSIGs of the apex SOA and of each DS
    for name, rdataset, sigs in authoritative_rrsets(sample):
        assert sigs is not None and len(sigs), (name, rdataset.rdtype)
    # and the sample says what the whole zone says about those RRsets
    whole = dns.zone.from_text(signed_text, origin=ORIGIN, relativize=False)
    for name, rdataset, sigs in authoritative_rrsets(sample):
        assert whole.get_rdataset(name, rdataset.rdtype) == rdataset
        assert whole.get_rdataset(name, dns.rdatatype.RRSIG, covers=rdataset.rdtype) == sigs


def test_text_not_in_one_record_a_line_form_is_parsed_whole_instead() -> None:
    relative = "$ORIGIN jp.\n@ 86400 IN SOA a.dns.jp. h.jp. 1 3600 900 1814400 900\n@ 86400 IN NS a.dns.jp.\n"
    assert sample_zone_text(relative, ORIGIN, []) is None


def test_big_zones_are_sampled_and_small_ones_compared_whole(signed_text: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def parse() -> dns.zone.Zone:
        return dns.zone.from_text(signed_text, origin=ORIGIN, relativize=False)

    whole, sampled = zone_to_compare(signed_text, parse, ORIGIN, [])
    assert not sampled and len(whole.nodes) > 2000
    monkeypatch.setattr(served, "SAMPLE_TEXT_BYTES", 1000)
    small, sampled = zone_to_compare(signed_text, parse, ORIGIN, [])
    assert sampled and len(small.nodes) < 100
    monkeypatch.setattr(served, "SAMPLE_LIMIT", 1000)
    from_zone, sampled = zone_to_compare(None, parse, ORIGIN, [dns.name.from_text("www.jp.")])
    assert sampled and len(from_zone.nodes) < 100 and ("www.jp.", "A") in _asked(from_zone)


def test_a_dnspython_zone_sample_takes_delegations_of_both_kinds(signed_text: str) -> None:
    whole = dns.zone.from_text(signed_text, origin=ORIGIN, relativize=True)
    asked = _asked(sample_zone(whole, [dns.name.from_text("www.jp.")]))
    kinds = {kind for _, kind in asked}
    assert {"SOA", "DNSKEY", "DS", "A"} <= kinds
