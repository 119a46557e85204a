"""The chain-of-trust walk on real signed zones served by the builtin server on 127.53.0.x, in this process.

The walk is a pure function of a fetch callable, the trust anchor, the root hints and the clock: these tests drive
it with the real fetch over loopback, and with fetches that fail or move the clock, and read what it judged.
"""

from __future__ import annotations

import ipaddress

import dns.name
import dns.rdatatype
import pytest

from testbed.build.zones import KeyStore
from testbed.explain import FetchError, walk
from testbed.explain.run import build_local
from testbed.explain.serve import LOCAL_SUBNET, serving
from testbed.explain.sigs import absolute
from testbed.faults import fault_params
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART

KEYS = KeyStore()


@pytest.fixture(scope="module")
def secure_lab():
    ctx = build_local(load_scenario(QUICKSTART / "secure-a.yaml", known_faults=fault_params()), KEYS)
    with serving(ctx) as served:
        yield ctx, served


def chain_for(ctx, fetch, qname, qtype="A", now=None):
    return walk(qname, qtype, fetch, ctx.trust_anchor_ds(), ctx.topology.root_hints,
                ctx.clock.now() if now is None else now)


def test_secure_chain_has_every_zone_and_only_valid_links(secure_lab):
    ctx, served = secure_lab
    chain = chain_for(ctx, served.fetch, "www.example.jp.")
    assert [step.zone for step in chain.steps] == [".", "jp.", "example.jp."]
    assert chain.outcome == "secure" and chain.broken is None
    kinds = [link.kind for link in chain.links()]
    assert kinds.count("ds") == 3          # the anchor's DS at the root, then jp's and example.jp's
    assert all(link.verdict in ("valid", "info") for link in chain.links())
    tree = chain.tree()
    assert "example.jp DNSKEY" in tree and "192.0.2.80" in tree


def test_queries_go_only_to_lab_servers_without_recursion(secure_lab):
    ctx, served = secure_lab
    asked = []

    def recording(name, rdtype, server):
        asked.append((name, rdtype, server))
        return served.fetch(name, rdtype, server)

    chain_for(ctx, recording, "nosuchname.example.jp.")
    assert asked and all(ipaddress.ip_address(server) in LOCAL_SUBNET for _, _, server in asked)
    assert (dns.name.from_text("example.jp."), dns.rdatatype.DNSKEY) in {(n, t) for n, t, _ in asked}


def test_a_silent_server_becomes_a_server_link_naming_it(secure_lab):
    ctx, served = secure_lab
    child = ctx.topology.server_address("child")

    def silent_child(name, rdtype, server):
        if server == child:
            raise FetchError("no answer within 2 s")
        return served.fetch(name, rdtype, server)

    chain = chain_for(ctx, silent_child, "www.example.jp.")
    assert chain.outcome == "servfail"
    assert chain.broken.kind == "server"
    assert child in chain.sentence and "no answer within 2 s" in chain.sentence


def test_the_walk_judges_at_the_clock_it_is_given(secure_lab):
    ctx, served = secure_lab
    later = ctx.clock.now() + 60 * 86400          # past every signature's expiration
    chain = chain_for(ctx, served.fetch, "www.example.jp.", now=later)
    assert chain.outcome == "bogus"
    assert chain.broken.facts["problem"] == "expired"
    assert chain.broken.subject.startswith(". DNSKEY") or chain.broken.facts.get("zone") == "."
    assert "before the lab clock" in chain.sentence


def test_signature_times_use_serial_arithmetic():
    now = (1 << 32) - 100                     # just before the 32-bit wrap
    assert absolute(50, now) == (1 << 32) + 50   # 150 s later, across the wrap
    assert absolute(now - 10, now) == now - 10


def test_insecure_delegation_is_proven_not_assumed(secure_lab):
    ctx, served = secure_lab
    chain = chain_for(ctx, served.fetch, "www.insecure.jp.")
    assert chain.outcome == "insecure"
    link = chain.insecure
    assert link.kind == "denial" and link.facts["problem"] == "insecure-delegation"
    assert chain.sentence == "insecure.jp is an insecure delegation: the NSEC at jp proves it has no DS"
