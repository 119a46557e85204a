"""Registry policies: what a parental agent accepts from a registrar (``submit-ds``) and from a child's CDS/CDNSKEY
(``registry-scan``).

Three ready-made policies. ``lab`` is this test-bed's own strict default. ``ch-like`` and ``se-like`` are modelled
on the published CDS policies of .ch/.li and .se/.nu as summarised in shared/reference/landscape-2026.md (section 3,
the RFC 9615 row, which cites nic.ch/security/cds and internetstiftelsen.se's "policy and guidelines for automated
DNSSEC provisioning"). Every figure says where it comes from in ``SOURCES``; where the source gives no figure the
value is ours and says so. Names are "-like" on purpose: a lab model, not the registries' software.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from testbed.errors import ScenarioError

DAY = 86400
ACCEPTANCES = ("strict", "none")


@dataclass(frozen=True)
class RegistryPolicy:
    """One registry's rules. Durations in seconds."""

    name: str
    summary: str
    algorithms: tuple[int, ...] = (8, 10, 13, 14, 15, 16)    # DNSKEY algorithms a DS may name (no 5/7: RFC 9905)
    digests: tuple[int, ...] = (2, 4)                          # DS digest types accepted (no SHA-1: RFC 9905)
    signature_margin: int = DAY      # the DNSKEY RRset's signature must stay valid at least this long from now
    # CDS/CDNSKEY scanning (RFC 7344, RFC 8078, RFC 9615)
    interval: int = DAY              # time between two scans
    update_scans: int = 1            # consecutive identical scans before a secure child's CDS is acted on
    bootstrap_scans: int = 4         # ... before an insecure child's first DS is taken from unauthenticated CDS
    rfc9615: bool = True             # an authenticated bootstrapping signal removes the bootstrap wait
    tcp: bool = True                 # scans query over TCP
    all_servers_agree: bool = True   # every name server of the child must serve the same CDS/CDNSKEY
    max_cds: int | None = None       # at most this many CDS records
    cdnskey_must_match_cds: bool = False   # when both are published, they must name the same keys
    delete: bool = True              # act on the RFC 8078 delete request (CDS 0 0 0 00)
    vantage_points: int = 1          # the lab has one network: scans from several places are not modelled
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap_wait(self) -> int:
        """How long an unauthenticated CDS must stay unchanged before a first DS is taken from it."""
        return (self.bootstrap_scans - 1) * self.interval

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "summary": self.summary, "algorithms": list(self.algorithms),
                "digests": list(self.digests), "signature_margin_s": self.signature_margin,
                "interval_s": self.interval, "update_scans": self.update_scans,
                "bootstrap_scans": self.bootstrap_scans, "bootstrap_wait_s": self.bootstrap_wait,
                "rfc9615": self.rfc9615, "tcp": self.tcp, "all_servers_agree": self.all_servers_agree,
                "max_cds": self.max_cds, "cdnskey_must_match_cds": self.cdnskey_must_match_cds,
                "delete": self.delete, "sources": dict(self.sources)}


LANDSCAPE = "shared/reference/landscape-2026.md section 3 (RFC 9615 row)"

POLICIES: dict[str, RegistryPolicy] = {p.name: p for p in (
    RegistryPolicy(
        name="lab",
        summary="the test-bed's strict default: modern algorithms and digests only, one day of signature margin, "
                "daily scans, a 3-day wait for unauthenticated bootstrapping",
        sources={"algorithms, digests": "RFC 9905 section 2 (no SHA-1 in new DS/DNSKEY), RFC 9904",
                 "everything else": "ours"}),
    RegistryPolicy(
        name="ch-like",
        summary="modelled on .ch/.li: daily scan over TCP, all name servers consistent, 3 unchanged days before "
                "a first DS (4 daily scans), no wait with an RFC 9615-authenticated signal",
        interval=DAY, bootstrap_scans=4, update_scans=1, rfc9615=True, tcp=True, all_servers_agree=True,
        sources={"interval 1d": LANDSCAPE + ": 'daily scan'",
                 "tcp": LANDSCAPE + ": 'TCP only'",
                 "all_servers_agree": LANDSCAPE + ": 'all NS consistent'",
                 "bootstrap_scans 4": LANDSCAPE + ": '3 unchanged days for bootstrap' (day 0 to day 3)",
                 "rfc9615": LANDSCAPE + ": 'delay removed when RFC 9615-authenticated'",
                 "update_scans 1, signature_margin 1d, algorithms, digests": "ours (not in the summary)"}),
    RegistryPolicy(
        name="se-like",
        summary="modelled on .se/.nu: accept-after-delay of more than 72 hours before a first DS (5 daily scans "
                "span 96 h), at most 6 CDS, CDNSKEY must match CDS",
        interval=DAY, bootstrap_scans=5, update_scans=1, rfc9615=False, tcp=True, all_servers_agree=True,
        max_cds=6, cdnskey_must_match_cds=True, vantage_points=3,
        sources={"bootstrap_scans 5": LANDSCAPE + ": '> 72 h accept-after-delay' (scans at 0, 24, 48, 72, 96 h)",
                 "max_cds 6": LANDSCAPE + ": '<= 6 CDS'",
                 "cdnskey_must_match_cds": LANDSCAPE + ": 'CDNSKEY must match CDS'",
                 "vantage_points 3": LANDSCAPE + ": '3 vantage points' (recorded, not modelled: one lab network)",
                 "interval 1d, rfc9615 off, tcp, update_scans 1": "ours (not in the summary)"}),
)}


def get_policy(name: str) -> RegistryPolicy:
    if name not in POLICIES:
        raise ScenarioError(f"unknown registry policy {name!r}",
                            fix=f"use one of: {', '.join(POLICIES)} (testbed/registry/policy.py describes each)")
    return POLICIES[name]
