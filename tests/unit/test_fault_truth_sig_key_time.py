"""Truth tests for the SIG, KEY, TIME and CLI conformance scenarios (fault-catalog.md 4.1, 4.2, 4.10, 4.11).

Each scenario's zones are built as a lab would serve them (no lab started). Where an independent verifier can see
the fault (ldns-verify-zone, dnssec-verify), it must report it, only it, and only in the broken zone: every other
signed zone verifies. Where it cannot (a wrong DNSKEY flag, a DS pointing elsewhere, a TTL), the zones all verify
and a direct dnspython look at the data shows the fault is there. Scenarios without a fault verify clean.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from testbed.build.topology import plan
from testbed.build.zones import BuildContext, KeyStore
from testbed.clock import LabClock
from testbed.faults import fault_params
from testbed.faults.client import CASES as CLIENT_CASES
from testbed.scenario import load_scenario
from testbed.scenario.model import QueryFlags
from testbed.timeline.build import build_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("ldns-verify-zone") is None or shutil.which("dnssec-verify") is None,
                                reason="needs ldnsutils and bind9-dnsutils")

CONFORMANCE = ROOT / "scenarios" / "conformance"
GROUPS = ("signatures", "dnskey", "time", "client")
KEYS = KeyStore()        # one key set for the whole module: key generation is most of a build's time
EXAMPLE = dns.name.from_text("example.jp.")
WWW = dns.name.from_text("www.example.jp.")
ALL_SIGNED = frozenset({".", "jp.", "co.jp.", "example.jp.", "example.co.jp."})
EX = frozenset({"example.jp."})
JP = frozenset({"jp."})


@dataclass
class Built:
    ctx: BuildContext
    files: dict[str, Path]       # signed zone name -> the zone file as a server would load it
    now: int

    def zone(self, name: str) -> dns.zone.Zone:
        return self.ctx.zones[name].zone()


def build(rel: str, tmp: Path) -> Built:
    scenario = load_scenario(CONFORMANCE / rel, known_faults=fault_params())
    clock = LabClock()
    ctx = build_scenario(scenario, plan(scenario, []), clock, KEYS, serial=1)
    files = {}
    for name, zone in ctx.zones.items():
        if zone.signed is None:
            continue
        path = tmp / f"{name.strip('.') or 'root'}.zone"
        zone.zone().to_file(str(path), relativize=False, want_origin=False)
        files[name] = path
    return Built(ctx, files, clock.now())


def ldns_errors(path: Path) -> tuple[int, list[str]]:
    proc = subprocess.run(["ldns-verify-zone", str(path)], capture_output=True, text=True, timeout=60)
    errors = [line.removeprefix("Error: ") for line in (proc.stdout + proc.stderr).splitlines()
              if line.startswith("Error:")]
    return proc.returncode, errors


def assert_clean(built: Built, *, skip: frozenset[str] = frozenset()) -> None:
    for name, path in built.files.items():
        if name in skip:
            continue
        code, errors = ldns_errors(path)
        assert code == 0 and not errors, f"{name} should verify: {errors}"


# ---- faults an independent verifier sees ------------------------------------------------------------------------
# scenario -> (the zones it breaks, a pattern every ldns-verify-zone error line in them must match)
NO_KEY = r"No keys with the keytag and algorithm from the RRSIG found for "
SEEN_BY_LDNS: dict[str, tuple[frozenset[str], str]] = {
    "signatures/rrsig-expired-a.yaml": (EX, r"^DNSSEC signature has expired for www\.example\.jp\.\tA$"),
    "signatures/rrsig-expired-all.yaml": (EX, r"^DNSSEC signature has expired for \S*example\.jp\.\t"),
    "signatures/rrsig-not-yet-valid-a.yaml": (EX, r"^DNSSEC signature not incepted yet for www\.example\.jp\.\tA$"),
    "signatures/rrsig-not-yet-valid-all.yaml": (EX, r"^DNSSEC signature not incepted yet for \S*example\.jp\.\t"),
    "signatures/rrsig-exp-before-inception.yaml":
        (EX, r"^DNSSEC signature has expiration date earlier than inception date for www\.example\.jp\.\tA$"),
    "signatures/rrsig-bad-signature-bytes.yaml": (EX, r"^Bogus DNSSEC signature for www\.example\.jp\.\tA$"),
    "signatures/tampered-rdata.yaml": (EX, r"^Bogus DNSSEC signature for www\.example\.jp\.\tA$"),
    "signatures/rrsig-origttl-tampered.yaml": (EX, r"^Bogus DNSSEC signature for www\.example\.jp\.\tA$"),
    "signatures/rrsig-missing-a.yaml": (EX, r"^no signatures for www\.example\.jp\.\tA$"),
    "signatures/rrsig-missing-all.yaml":
        (EX, r"^no signatures for \S*example\.jp\.\t|^the NSEC\(3\) record of \S*example\.jp\. has no signatures$"),
    "signatures/rrsig-unknown-keytag.yaml": (EX, NO_KEY + r"www\.example\.jp\.\tA$"),
    "signatures/rrsig-alg-mismatch.yaml": (EX, NO_KEY + r"www\.example\.jp\.\tA$"),
    "signatures/rrsig-signer-not-zone.yaml": (EX, NO_KEY + r"www\.example\.jp\.\tA$"),
    "signatures/rrsig-signer-ancestor.yaml": (EX, NO_KEY + r"www\.example\.jp\.\tA$"),
    "dnskey/dnskey-rrset-missing.yaml": (EX, r"^No DNSKEY records at zone apex$"),
    "dnskey/dnskey-ksk-removed.yaml": (EX, NO_KEY + r"example\.jp\.\tDNSKEY$"),
    "dnskey/dnskey-ksk-material-corrupt.yaml": (EX, NO_KEY + r"example\.jp\.\tDNSKEY$"),
    "dnskey/dnskey-ksk-alg-field-changed.yaml": (EX, NO_KEY + r"example\.jp\.\tDNSKEY$"),
    # the ZSK faults: every RRset but the DNSKEY RRset (signed by the intact KSK) loses its key
    "dnskey/dnskey-zsk-removed.yaml": (EX, NO_KEY + r"\S*example\.jp\.\t(?!DNSKEY)"),
    "dnskey/dnskey-zsk-alg-field-changed.yaml": (EX, NO_KEY + r"\S*example\.jp\.\t(?!DNSKEY)"),
    # ... and with the ZSK's bytes changed, the KSK's signature over the DNSKEY RRset breaks too (fault-catalog)
    "dnskey/dnskey-zsk-material-corrupt.yaml":
        (EX, NO_KEY + r"\S*example\.jp\.\t(?!DNSKEY)|^Bogus DNSSEC signature for example\.jp\.\tDNSKEY$"),
    "dnskey/dnskey-rrsig-missing.yaml": (EX, r"^no signatures for example\.jp\.\tDNSKEY$"),
    "dnskey/dnskey-rrsig-bad.yaml": (EX, r"^Bogus DNSSEC signature for example\.jp\.\tDNSKEY$"),
    "time/clock-after-expiry.yaml": (ALL_SIGNED, r"^DNSSEC signature has expired for "),
    "time/clock-before-inception.yaml": (ALL_SIGNED, r"^DNSSEC signature not incepted yet for "),
    "time/expired-300s-ago.yaml": (EX, r"^DNSSEC signature has expired for \S*example\.jp\.\t"),
    "time/inception-now+300s.yaml": (EX, r"^DNSSEC signature not incepted yet for \S*example\.jp\.\t"),
    "time/inception-now+30s.yaml": (EX, r"^DNSSEC signature not incepted yet for \S*example\.jp\.\t"),
    # the base faults with parameters no catalog case uses: another RRset or zone, another algorithm or key type
    "signatures/ds-rrsig-origttl-tampered.yaml": (JP, r"^Bogus DNSSEC signature for example\.jp\.\tDS$"),
    "dnskey/dnskey-zsk-alg-field-ed25519.yaml": (EX, NO_KEY + r"\S*example\.jp\.\t(?!DNSKEY)"),
    "dnskey/dnskey-zsk-material-corrupt-rsa.yaml":
        (EX, NO_KEY + r"\S*example\.jp\.\t(?!DNSKEY)|^Bogus DNSSEC signature for example\.jp\.\tDNSKEY$"),
    # jp.'s own data loses its key, the DNSKEY RRset (signed by the KSK) does not
    "dnskey/dnskey-tld-zsk-removed.yaml": (JP, NO_KEY + r"\S*jp\.\t(?!DNSKEY)"),
    "client/cd-on-bogus.yaml": (EX, r"^DNSSEC signature has expired for www\.example\.jp\.\tA$"),
    "client/control-bogus-without-do.yaml": (EX, r"^DNSSEC signature has expired for www\.example\.jp\.\tA$"),
}


@pytest.mark.parametrize("rel", sorted(SEEN_BY_LDNS))
def test_the_verifier_sees_the_fault_and_only_it(rel: str, tmp_path: Path) -> None:
    broken, pattern = SEEN_BY_LDNS[rel]
    built = build(rel, tmp_path)
    for name, path in built.files.items():
        code, errors = ldns_errors(path)
        if name in broken:
            assert code != 0 and errors, f"{name} should fail verification"
            stray = [e for e in errors if not re.search(pattern, e)]
            assert not stray, f"{name}: errors other than the fault: {stray}"
        else:
            assert code == 0 and not errors, f"{name} should verify: {errors}"


# ---- faults only a direct look at the data shows --------------------------------------------------------------

def rrset(zone: dns.zone.Zone, owner: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset:
    rdataset = zone.get_rdataset(owner, rdtype)
    assert rdataset is not None, f"no {owner}/{dns.rdatatype.to_text(rdtype)}"
    out = dns.rrset.RRset(owner, rdataset.rdclass, rdtype)
    out.update(rdataset)
    return out


def sigs(zone: dns.zone.Zone, owner: dns.name.Name, covered: dns.rdatatype.RdataType) -> list:
    rdataset = zone.get_rdataset(owner, dns.rdatatype.RRSIG, covered)
    return list(rdataset) if rdataset is not None else []


def all_sigs(zone: dns.zone.Zone) -> list:
    return [sig for _, rds in zone.iterate_rdatasets() if rds.rdtype == dns.rdatatype.RRSIG for sig in rds]


def dnskeys(built: Built, name: str = "example.jp.") -> list:
    return list(rrset(built.zone(name), dns.name.from_text(name), dns.rdatatype.DNSKEY))


def parent_ds(built: Built, child: str = "example.jp.", parent: str = "jp.") -> list:
    return list(rrset(built.zone(parent), dns.name.from_text(child), dns.rdatatype.DS))


def ds_matches(ds: object, dnskey: object, owner: dns.name.Name = EXAMPLE) -> bool:
    made = dns.dnssec.make_ds(owner, dnskey, ds.digest_type, policy=dns.dnssec.allow_all_policy)  # type: ignore[attr-defined]
    return made == ds


def verifies(rrs: dns.rrset.RRset, sig: object, keys: list, owner: dns.name.Name = EXAMPLE) -> bool:
    keyset = dns.rdataset.from_rdata_list(3600, keys)
    try:
        dns.dnssec.validate_rrsig(rrs, sig, {owner: keyset}, policy=dns.dnssec.allow_all_policy)
        return True
    except dns.dnssec.ValidationFailure:
        return False


def check_labels_above(built: Built) -> None:
    (sig,) = sigs(built.zone("example.jp."), WWW, dns.rdatatype.A)
    assert sig.labels == 4                       # www.example.jp has 3
    proc = subprocess.run(["dnssec-verify", "-o", "example.jp.", str(built.files["example.jp."])],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert re.findall(r"No correct \S+ signature for (.*)", proc.stderr + proc.stdout) == ["www.example.jp A"]


def check_labels_below(built: Built) -> None:
    zone = built.zone("example.jp.")
    (sig,) = sigs(zone, WWW, dns.rdatatype.A)
    assert sig.labels == 2
    # a valid signature for an expansion of *.example.jp, which the zone does not have: nothing can prove it
    assert verifies(rrset(zone, WWW, dns.rdatatype.A), sig, dnskeys(built))
    assert zone.get_node(dns.name.from_text("*.example.jp.")) is None


def check_unsupported_only(built: Built) -> None:
    (sig,) = sigs(built.zone("example.jp."), WWW, dns.rdatatype.A)
    assert sig.algorithm == dns.dnssec.Algorithm.RSAMD5
    assert any(k.algorithm == dns.dnssec.Algorithm.RSAMD5 and dns.dnssec.key_id(k) == sig.key_tag
               for k in dnskeys(built))
    assert all(s.algorithm != dns.dnssec.Algorithm.RSAMD5 for s in sigs(built.zone("example.jp."), EXAMPLE,
                                                                        dns.rdatatype.DNSKEY))


def check_ttl_above_original(built: Built) -> None:
    zone = built.zone("example.jp.")
    (sig,) = sigs(zone, WWW, dns.rdatatype.A)
    assert zone.get_rdataset(WWW, dns.rdatatype.A).ttl == 86400 and sig.original_ttl == 300


def check_expires_before_ttl(owner: str, whole_zone: bool) -> Callable[[Built], None]:
    def check(built: Built) -> None:
        zone = built.zone("example.jp.")
        name = dns.name.from_text(owner)
        ttl = zone.get_rdataset(name, dns.rdatatype.A).ttl
        chosen = all_sigs(zone) if whole_zone else sigs(zone, name, dns.rdatatype.A)
        assert chosen and all(0 < s.expiration - built.now <= 600 < ttl for s in chosen)
    return check


def check_one_good_one_bad(built: Built) -> None:
    zone = built.zone("example.jp.")
    pair = sigs(zone, WWW, dns.rdatatype.A)
    assert len(pair) == 2 and len({s.key_tag for s in pair}) == 2
    assert {s.key_tag for s in pair} <= {dns.dnssec.key_id(k) for k in dnskeys(built)}     # both keys published
    assert sorted(verifies(rrset(zone, WWW, dns.rdatatype.A), s, dnskeys(built)) for s in pair) == [False, True]


def check_algorithm_incomplete(built: Built) -> None:
    assert {ds.algorithm for ds in parent_ds(built)} == {8, 13}
    assert any(ds.algorithm == 13 and ds_matches(ds, k) for ds in parent_ds(built) for k in dnskeys(built))
    assert {s.algorithm for s in all_sigs(built.zone("example.jp."))} == {8}


def check_flags(expected: dict[str, int], *, ds_points_at_published: bool = True) -> Callable[[Built], None]:
    """Key flags as published (by role: the key the DS was made for is the 'ksk') and where the DS points."""
    def check(built: Built) -> None:
        keys = dnskeys(built)
        roles = {k.role: k for k in built.ctx.zones["example.jp."].keys}
        for role, flags in expected.items():
            assert roles[role].dnskey in keys and roles[role].dnskey.flags == flags
        assert len(keys) == len(roles)
        matching = [k for ds in parent_ds(built) for k in keys if ds_matches(ds, k)]
        if ds_points_at_published:
            assert matching == [roles["ksk"].dnskey]
            # the key the DS names signs the DNSKEY RRset
            assert dns.dnssec.key_id(roles["ksk"].dnskey) in {s.key_tag for s in sigs(built.zone("example.jp."),
                                                                                       EXAMPLE, dns.rdatatype.DNSKEY)}
        else:
            assert matching == []
            unrevoked = roles["ksk"].with_flags(257).dnskey
            assert any(ds_matches(ds, unrevoked) for ds in parent_ds(built))
    return check


def check_reserved_flag_bits(built: Built) -> None:
    """Unassigned flag bits on the KSKs (bit 0 in example.jp., bit 1 in example.co.jp.), the DS made with them."""
    check_flags({"ksk": 0x8101, "zsk": 256})(built)
    co = "example.co.jp."
    keys = dnskeys(built, co)
    ksk = next(k for k in built.ctx.zones[co].keys if k.role == "ksk")
    assert ksk.dnskey in keys and ksk.dnskey.flags == 0x4101
    owner = dns.name.from_text(co)
    assert [k for ds in parent_ds(built, co, "co.jp.") for k in keys if ds_matches(ds, k, owner)] == [ksk.dnskey]


def check_protocol(built: Built) -> None:
    keys = dnskeys(built)
    assert keys and all(k.protocol == 4 for k in keys)
    assert any(ds_matches(ds, k) for ds in parent_ds(built) for k in keys)


def check_unsupported_zone(built: Built) -> None:
    keys = dnskeys(built)
    assert {k.algorithm for k in keys} == {dns.dnssec.Algorithm.RSAMD5}
    assert {s.algorithm for s in all_sigs(built.zone("example.jp."))} == {dns.dnssec.Algorithm.RSAMD5}
    assert all(ds.algorithm == dns.dnssec.Algorithm.RSAMD5 for ds in parent_ds(built))
    assert any(ds_matches(ds, k) for ds in parent_ds(built) for k in keys)
    # ldns checks RSAMD5 signatures, so the zone verifying (see the caller) means it is correctly signed with it


def check_all_replaced(built: Built) -> None:
    assert not any(ds_matches(ds, k) for ds in parent_ds(built) for k in dnskeys(built))


def check_keytag_collision(built: Built) -> None:
    zone = built.zone("example.jp.")
    keys = dnskeys(built)
    (sig,) = sigs(zone, WWW, dns.rdatatype.A)
    twins = [k for k in keys if (k.algorithm, dns.dnssec.key_id(k)) == (sig.algorithm, sig.key_tag)]
    assert len(twins) == 2 and twins[0] != twins[1]
    assert sorted(verifies(rrset(zone, WWW, dns.rdatatype.A), sig, [k]) for k in twins) == [False, True]


def check_serial_wrap(built: Built) -> None:
    chosen = all_sigs(built.zone("example.jp."))
    assert chosen
    for sig in chosen:
        assert sig.inception > sig.expiration                            # the window runs across 2^32
        assert 0 < (built.now - sig.inception) % 2**32 < 2**31           # serial arithmetic: incepted in the past
        assert 0 < (sig.expiration - built.now) % 2**32 < 2**31          # and expiring in the future


# scenario -> (a direct check of the fault, or None for a scenario that must simply verify clean)
DIRECT: dict[str, Callable[[Built], None] | None] = {
    "signatures/rrsig-labels-gt-owner.yaml": check_labels_above,
    "signatures/rrsig-labels-lt-owner-no-proof.yaml": check_labels_below,
    "signatures/rrsig-stripped-leaving-unsupported-alg.yaml": check_unsupported_only,
    "signatures/rrset-ttl-above-origttl.yaml": check_ttl_above_original,
    "signatures/ttl-beyond-expiration.yaml": check_expires_before_ttl("long.example.jp.", whole_zone=False),
    "signatures/rrsig-one-good-one-bad.yaml": check_one_good_one_bad,
    "signatures/rrsig-alg-incomplete.yaml": check_algorithm_incomplete,
    "dnskey/dnskey-no-zone-bit-all.yaml": check_flags({"ksk": 0, "zsk": 0}),
    "dnskey/dnskey-no-zone-bit-zsk.yaml": check_flags({"ksk": 257, "zsk": 0}),
    "dnskey/dnskey-sep-bit-clear.yaml": check_flags({"ksk": 256, "zsk": 256}),
    "dnskey/dnskey-revoked-ksk-ds-matches.yaml": check_flags({"ksk": 385, "zsk": 256}),
    "dnskey/dnskey-revoked-ksk-stale-ds.yaml": check_flags({"ksk": 385, "zsk": 256}, ds_points_at_published=False),
    "dnskey/dnskey-protocol-not-3.yaml": check_protocol,
    "dnskey/dnskey-ksk-reserved-flag-bits.yaml": check_reserved_flag_bits,
    "dnskey/dnskey-alg-unsupported-zone.yaml": check_unsupported_zone,
    "dnskey/dnskey-all-keys-replaced.yaml": check_all_replaced,
    "dnskey/dnskey-keytag-collision.yaml": check_keytag_collision,
    "time/expiring-within-ttl.yaml": check_expires_before_ttl("long.example.jp.", whole_zone=True),
    "time/serial-arith-wrap.yaml": check_serial_wrap,
    "time/control-short-window.yaml": None,
    "time/control-inception-300s-ago.yaml": None,
}
NO_FAULT = sorted(str(p.relative_to(CONFORMANCE)) for g in GROUPS for p in (CONFORMANCE / g).glob("*.yaml")
                  if not load_scenario(p, known_faults=fault_params()).faults)


@pytest.mark.parametrize("rel", sorted(DIRECT) + NO_FAULT)
def test_zones_verify_and_the_data_shows_the_fault(rel: str, tmp_path: Path) -> None:
    built = build(rel, tmp_path)
    # the labels fault is one ldns does not check; dnssec-verify sees it (in check_labels_above)
    assert_clean(built)
    check = DIRECT.get(rel)
    if check is not None:
        check(built)


def test_every_scenario_of_these_groups_has_a_truth_test() -> None:
    every = {str(p.relative_to(CONFORMANCE)) for g in GROUPS for p in (CONFORMANCE / g).glob("*.yaml")}
    covered = set(SEEN_BY_LDNS) | set(DIRECT) | set(NO_FAULT)
    assert every == covered, f"without a truth test: {sorted(every - covered)}; gone: {sorted(covered - every)}"
    assert not set(SEEN_BY_LDNS) & set(DIRECT)


def test_client_scenarios_ask_with_the_flags_of_their_case() -> None:
    flags = {case: load_scenario(CONFORMANCE / "client" / file, known_faults=fault_params()).checks[0].flags
             for case, (file, _) in CLIENT_CASES.items()}
    assert flags == {"CLI-01": QueryFlags(cd=True), "CLI-02": QueryFlags(do=False),
                     "CLI-03": QueryFlags(do=False, ad=True)}
    assert QueryFlags().is_default and QueryFlags(cd=True).text == "+cd"


# KEY-19 (KeyTrap) would exhaust the CPU of the unpatched Unbound 1.17 and Knot 5.6; TIME-08 needs a zone change
# between two checks of one scenario (timeline phases). Every other case of these groups has exactly one fault id.
NOT_BUILT = {"KEY-19", "TIME-08"}


def test_every_case_of_these_groups_is_one_registered_fault() -> None:
    from testbed.faults import registry

    wanted = ({f"SIG-{i:02d}" for i in range(1, 22)} | {f"KEY-{i:02d}" for i in range(1, 20)}
              | {f"TIME-{i:02d}" for i in range(1, 9)}) - NOT_BUILT
    ids: dict[str, list[str]] = {}
    for fault in registry().values():
        for case in fault.cases:
            ids.setdefault(case, []).append(fault.id)
    assert {c: ids.get(c, []) for c in wanted if len(ids.get(c, [])) != 1 and c not in ("SIG-13", "SIG-14")} == {}
    # one fault, rrsig-foreign-signer, serves both: which zone signs instead is the scenario's parameter
    assert ids["SIG-13"] == ids["SIG-14"] == ["rrsig-foreign-signer"]
