"""The lab's state across the phases of a timeline: which keys each zone has and in which state, which DS records
each parent publishes, how each zone is signed, the configured trust anchor, and the lab clock.

Actions (``actions.py``) change this state; every phase builds and signs the zones from it afresh (``build.py``).
Nothing here touches a running lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.rdtypes.ANY.DS

from testbed.build.topology import Topology
from testbed.build.zones import KeyStore, zone_keys
from testbed.clock import LabClock
from testbed.dnssec import Key, make_ds
from testbed.dnssec.keys import REVOKE_FLAG
from testbed.errors import ScenarioError
from testbed.registry.events import RegistryEvent
from testbed.scenario.model import DenialKind, Nsec3Params

# KeyStore slots for keys a timeline creates: well clear of the slots the fault modules use (1, 2), so a playbook's
# "next" key is never a fault's decoy. Slots are reused by every timeline of a run: key generation (RSA above all)
# is the slow part of a build.
FIRST_TIMELINE_SLOT = 10
ANCHOR_DIGEST = 2        # trust anchors are SHA-256 DS, like the lab's default anchor


@dataclass
class KeyState:
    """One key of a zone. ``published``: its DNSKEY is in the zone; ``active``: it signs (its ``role`` says what:
    a KSK/CSK the DNSKEY RRset, a ZSK/CSK everything else); ``revoked``: the REVOKE bit is set (RFC 5011)."""

    name: str
    key: Key
    published: bool = True
    active: bool = True
    revoked: bool = False

    @property
    def role(self) -> str:
        return self.key.role

    @property
    def is_sep(self) -> bool:
        return self.key.role in ("ksk", "csk")

    def as_published(self) -> Key:
        """The key as the zone shows it: with the REVOKE bit when revoked (which changes its key tag)."""
        return self.key.with_flags(self.key.flags | REVOKE_FLAG) if self.revoked else self.key


@dataclass
class ZoneState:
    """One zone as its operator and its parent's registry see it."""

    name: str
    parent: str | None
    signed: bool
    algorithm: int                                   # for keys made without an explicit algorithm
    ds_digests: tuple[int, ...]
    keys: dict[str, KeyState] = field(default_factory=dict)
    parent_ds: list[dns.rdtypes.ANY.DS.DS] = field(default_factory=list)   # what the parent publishes for us
    denial: DenialKind = "nsec"
    nsec3: Nsec3Params = Nsec3Params()
    validity_days: int = 30
    inception_offset: int = 3600
    dnskey_ttl: int | None = None                    # None: the signer's default (the SOA TTL)
    ds_ttl: int | None = None                        # TTL of our DS at the parent; None: the delegation TTL
    ttls: dict[tuple[str, str], int] = field(default_factory=dict)             # (owner, TYPE) -> TTL
    rrsets: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = field(default_factory=dict)  # replaced data
    frozen: bool = False                             # servers keep the last published version (signatures age)
    frozen_on: set[str] = field(default_factory=set)  # servers that keep serving the version they have now
    cds: list[str] | None = None                     # CDS/CDNSKEY the child publishes: key names, or ["delete"]
    cdnskey: bool = True                             # with the CDS, publish the matching CDNSKEY
    cds_digests: tuple[int, ...] = ()                # the CDS digest types (default: the zone's DS digests)
    cds_signer: str | None = None                    # the one key that signs the CDS/CDNSKEY (None: the KSKs)
    signal: bool = False                             # RFC 9615: the CDS/CDNSKEY also under _dsboot.<zone>._signal.<ns>
    ns_names: tuple[str, ...] = ()                   # set-ns: the delegation's name server names (() = the plan's)
    operators: dict[str, str] = field(default_factory=dict)        # multi-signer: server -> the ZSK it signs with
    omits: dict[str, set[str]] = field(default_factory=dict)       # server -> keys its DNSKEY RRset leaves out
    operator_ksks: dict[str, str] = field(default_factory=dict)    # server -> its operator's own KSK (model 2)
    ns_left: set[str] = field(default_factory=set)   # servers taken out of the NS set (leave-ns)
    publish_once: bool = False                       # a frozen zone is signed and published once more

    def key(self, name: str) -> KeyState:
        if name not in self.keys:
            known = ", ".join(self.keys) or "none"
            raise ScenarioError(f"zone {self.name} has no key named {name!r} (its keys: {known})",
                                fix="name a key the zone has, or create it first with publish-key")
        return self.keys[name]

    def published_keys(self) -> list[KeyState]:
        return [k for k in self.keys.values() if k.published]

    def active_keys(self) -> list[KeyState]:
        return [k for k in self.keys.values() if k.active]

    def ds_for(self, key: KeyState, digests: tuple[int, ...] | None = None) -> list[dns.rdtypes.ANY.DS.DS]:
        return [make_ds(key.as_published(), d) for d in (digests or self.ds_digests)]


@dataclass
class RegistrySettings:
    """How the registry of one parent zone treats DS submissions and CDS scans (``registry-policy``)."""

    acceptance: str = "none"                # strict: check every submitted DS; none: publish as submitted
    policy: str = "lab"                     # a name from testbed/registry/policy.py


@dataclass
class LabState:
    """Everything a timeline carries from one phase to the next."""

    zones: dict[str, ZoneState]
    clock: LabClock
    anchor: list[str]                       # the resolvers' configured root anchor: DS texts ([] = none)
    anchor_managed: bool = False            # RFC 5011: the resolvers track the root's keys from that anchor
    restart_resolvers: bool = False         # the next serve starts the resolvers afresh (set-trust-anchor restart)
    down: set[str] = field(default_factory=set)                               # servers cut off (server-down)
    slots: dict[tuple[str, int, str], int] = field(default_factory=dict)      # next KeyStore slot per kind of key
    registry: dict[str, RegistrySettings] = field(default_factory=dict)      # parent zone -> its registry's rules
    events: list[RegistryEvent] = field(default_factory=list)                 # registry decisions not reported yet
    scans: dict[str, tuple[int, frozenset[str]]] = field(default_factory=dict)   # child -> (streak, CDS last seen)

    def zone(self, name: str) -> ZoneState:
        key = name if name.endswith(".") else name + "."
        key = key.lower()
        if key not in self.zones:
            raise ScenarioError(f"no zone {name!r} in this topology",
                                fix=f"use one of: {', '.join(self.zones)}")
        return self.zones[key]

    def registry_for(self, parent: str) -> RegistrySettings:
        return self.registry.get(parent) or self.registry.get("*") or RegistrySettings()

    def new_key(self, keystore: KeyStore, zone: ZoneState, algorithm: int, role: str) -> Key:
        """A key this timeline has not used yet for ``zone``/``algorithm``/``role``."""
        kind = (zone.name, algorithm, role)
        slot = self.slots.get(kind, FIRST_TIMELINE_SLOT)
        self.slots[kind] = slot + 1
        return keystore.get(zone.name, algorithm, role, slot)

    def root_anchor(self) -> list[str]:
        """DS texts for the root's published SEP keys as they stand now: what an operator would configure."""
        root = self.zones["."]
        if not root.signed:
            raise ScenarioError("the root is unsigned, so there is no key to anchor",
                                fix="sign the root first (sign-zone: .)")
        keys = [k for k in root.published_keys() if k.is_sep and not k.revoked]
        return [f". IN DS {make_ds(k.key, ANCHOR_DIGEST).to_text()}" for k in keys]


def initial_state(topology: Topology, keystore: KeyStore, clock: LabClock) -> LabState:
    """The state a timeline starts from: the topology's zones signed as planned, each with its planned keys
    (named ``ksk`` and ``zsk``, or ``csk``), every signed zone's DS at its parent, and a static root anchor (none
    when the root starts unsigned). The keys are the run's usual ones, so the anchor matches the lab's and the first
    phase needs no resolver restart."""
    zones: dict[str, ZoneState] = {}
    for plan in topology.zones.values():
        signing = plan.signing
        zone = ZoneState(name=plan.name, parent=plan.parent, signed=signing.signed, algorithm=signing.algorithm,
                         ds_digests=signing.ds_digests, denial=signing.denial, nsec3=signing.nsec3,
                         validity_days=signing.validity_days, inception_offset=signing.inception_offset)
        for key in zone_keys(plan, keystore):
            zone.keys[key.role] = KeyState(name=key.role, key=key)
        zone.parent_ds = [ds for k in zone.keys.values() if k.is_sep for ds in zone.ds_for(k)]
        zones[plan.name] = zone
    state = LabState(zones=zones, clock=clock, anchor=[])
    if zones["."].signed:
        state.anchor = state.root_anchor()
    return state
