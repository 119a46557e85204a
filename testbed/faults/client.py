"""CLI group: client-flag semantics (fault-catalog.md 4.11).

Nothing is broken in the zones for these cases: what varies is the query. A check sets its header/EDNS flags with
``flags: {cd: true}``, ``{do: false}`` or ``{ad: true, do: false}`` (the default is DO=1, AD=0, CD=0), and the
zone side reuses faults of the other groups (a bogus name comes from ``rrsig-expired``). So this module registers
no fault; it names the scenarios that cover each case, for the catalog and its tests.
"""

from __future__ import annotations

# case id -> (scenario file under scenarios/conformance/client/, what the query does)
CASES: dict[str, tuple[str, str]] = {
    "CLI-01": ("cd-on-bogus.yaml", "CD=1 on a bogus name: the data comes back, AD=0 (RFC 4035 3.2.2, RFC 6840 5.9)"),
    "CLI-02": ("no-do-no-ad-query.yaml", "DO=0, AD=0 on secure data: no AD in the answer (RFC 6840 5.8)"),
    "CLI-03": ("ad-query.yaml", "AD=1, DO=0 on secure data: AD=1 in the answer (RFC 6840 5.7)"),
}
