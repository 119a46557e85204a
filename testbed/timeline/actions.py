"""Timeline actions: small named operations on the lab's zones, keys, parent DS sets, trust anchor and clock.

One decorated function per action, as for faults: adding an action is adding one function here. A scenario phase
lists actions by id (``- retire-key: {zone: example.jp., key: zsk}``); the loader checks parameter names and kinds
against ``signatures()``, the timeline runner calls ``apply`` in order. Most actions only change the ``LabState``;
the phase then rebuilds and re-signs every zone from it. Actions marked ``needs_lab`` act on the running lab
(waiting for what the resolvers report); the runner serves the phase's changes so far before running them.

Words follow RFC 7583's key timeline: a key is *published* (its DNSKEY is in the zone), *active* (it signs),
*retired* (published, no longer signing), *revoked* (RFC 5011's REVOKE bit) and *removed* (gone).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS

from testbed.build.zones import KeyStore
from testbed.dnssec import make_ds
from testbed.dnssec.keys import REVOKE_FLAG
from testbed.errors import LabError, ScenarioError
from testbed.resolvers.base import ANCHOR_STATES
from testbed.scenario.model import ActionSignature, Nsec3Params
from testbed.timeline.state import KeyState, LabState, ZoneState

if TYPE_CHECKING:
    from testbed.build.topology import Topology
    from testbed.resolvers import ResolverAdapter, ResolverContext

T = TypeVar("T")

ROLES = ("ksk", "zsk", "csk")
ANCHOR_MODES = ("static", "managed", "none")
DENIALS = ("nsec", "nsec3")
ANCHOR_POLL_S = 0.25               # how often await-anchor asks the resolvers
ANCHOR_REFRESH_EVERY_S = 2.0       # how often it asks the resolvers that need a nudge to fetch the keys again
DEFAULT_ANCHOR_TIMEOUT_S = 60


class _RunningResolver(Protocol):
    @property
    def ctx(self) -> ResolverContext: ...


class _Vantage(Protocol):
    def in_lab(self, fn: Callable[[], T]) -> T: ...


class LabControl(Protocol):
    """What a ``needs_lab`` action uses of the running lab (``testbed.lab.lab.Lab``, which comes later in the flow:
    the timeline names what it needs rather than importing it)."""

    @property
    def topology(self) -> Topology: ...

    @property
    def backend(self) -> _Vantage | None: ...

    @property
    def resolvers(self) -> Mapping[str, _RunningResolver]: ...

    def resolver_exec(self, name: str, argv: list[str], timeout: float = 10.0) -> tuple[int, str]: ...


@dataclass
class ActionEnv:
    """What an action may use besides the state: the run's key store, and for ``needs_lab`` actions the lab and
    the resolvers of this scenario. ``wait_real`` is set when a resolver of the scenario cannot run on the virtual
    clock: time then passes for real (the phase's changes so far are served first), and the clock stays put."""

    keystore: KeyStore
    lab: LabControl | None = None
    adapters: list[ResolverAdapter] = field(default_factory=list)
    wait_real: Callable[[int], None] | None = None
    scenario: str = ""               # names for the registry's events
    topology: Topology | None = None  # this timeline's plan (the lab's may still be the previous scenario's)
    phase: str = ""
    changed: bool = False            # a lab action sets it when it changed the state (the runner serves again)


Apply = Callable[[LabState, dict[str, Any], ActionEnv], None]
LabIf = Callable[[LabState, dict[str, Any]], bool]


@dataclass(frozen=True)
class Action:
    id: str
    summary: str
    reference: str
    apply: Apply
    params: dict[str, tuple[str, str]]            # name -> (kind, what it means); kinds: see ActionSignature
    scalar: str | None = None
    required: tuple[str, ...] = ()
    needs_lab: bool = False
    lab_if: LabIf | None = None      # needs_lab only when this says so (submit-ds: only under strict acceptance)

    def wants_lab(self, state: LabState, params: dict[str, Any]) -> bool:
        return self.needs_lab and (self.lab_if is None or self.lab_if(state, params))

    def signature(self) -> ActionSignature:
        return ActionSignature(params={name: kind for name, (kind, _) in self.params.items()}, scalar=self.scalar,
                               required=self.required)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "summary": self.summary, "reference": self.reference,
                "params": {name: text for name, (_, text) in self.params.items()}, "required": list(self.required),
                "scalar": self.scalar, "needs_lab": self.needs_lab}


_ACTIONS: dict[str, Action] = {}


def action(id: str, *, summary: str, reference: str, params: dict[str, tuple[str, str]] | None = None,
           scalar: str | None = None, required: tuple[str, ...] = (), needs_lab: bool = False,
           lab_if: LabIf | None = None) -> Callable[[Apply], Apply]:
    """Register the decorated function as timeline action ``id``."""

    def register(fn: Apply) -> Apply:
        if id in _ACTIONS:
            raise ValueError(f"action {id!r} registered twice")
        given = dict(params or {})
        if scalar is not None and scalar not in given:
            raise ValueError(f"action {id!r}: scalar parameter {scalar!r} is not one of its parameters")
        _ACTIONS[id] = Action(id=id, summary=summary, reference=reference, apply=fn, params=given, scalar=scalar,
                              required=required, needs_lab=needs_lab, lab_if=lab_if)
        return fn

    return register


def registry() -> dict[str, Action]:
    return dict(sorted(_ACTIONS.items()))


def signatures() -> dict[str, ActionSignature]:
    """Action id -> what the scenario loader checks (``known_actions``)."""
    return {aid: a.signature() for aid, a in registry().items()}


# ---- parameter helpers -------------------------------------------------------------------------------------------

ZONE = ("zone", "the zone, e.g. example.jp.")
KEY = ("text", "the key's name in this timeline: ksk, zsk or csk for the zone's first keys, any name for new ones")


def _signed_zone(state: LabState, params: dict[str, Any]) -> ZoneState:
    zone = state.zone(params["zone"])
    if not zone.signed:
        raise ScenarioError(f"zone {zone.name} is unsigned, so it has no keys to change",
                            fix=f"sign it first: '- sign-zone: {zone.name}'")
    return zone


def _choice(params: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = str(params.get(name, default))
    if value not in choices:
        raise ScenarioError(f"{name} is {value!r}, which is not one of: {', '.join(choices)}",
                            fix=f"use one of: {', '.join(choices)}")
    return value


def _make_key(state: LabState, env: ActionEnv, zone: ZoneState, params: dict[str, Any], *, published: bool,
              active: bool) -> KeyState:
    name = str(params["key"])
    if name in zone.keys:
        raise ScenarioError(f"zone {zone.name} already has a key named {name!r}",
                            fix="give the new key another name, e.g. zsk-2")
    if "role" not in params:
        raise ScenarioError(f"key {name!r} of {zone.name} is new, so it needs a role",
                            fix="add role: ksk, zsk or csk")
    role = _choice(params, "role", ROLES)
    algorithm = int(params.get("algorithm", zone.algorithm))
    try:
        key = state.new_key(env.keystore, zone, algorithm, role)
    except ValueError as exc:
        raise ScenarioError(f"cannot make key {name!r} for {zone.name}: {exc}",
                            fix="use an algorithm the signer supports (8, 13, 14, 15, ...)") from None
    created = KeyState(name=name, key=key, published=published, active=active)
    zone.keys[name] = created
    return created


def _ds_matches(ds: dns.rdtypes.ANY.DS.DS, key: KeyState) -> bool:
    """Whether a DS at the parent was made for ``key`` (by its plain or its revoked key tag)."""
    return any(ds == make_ds(k, ds.digest_type) for k in (key.key, key.as_published()) if ds.digest_type in (1, 2, 4))


def _typo(ds: dns.rdtypes.ANY.DS.DS) -> dns.rdtypes.ANY.DS.DS:
    """The same DS with one hex digit of its digest mistyped: a registrant's copy-and-paste slip."""
    digest = bytearray(ds.digest)
    digest[-1] ^= 0x01
    return dns.rdtypes.ANY.DS.DS(ds.rdclass, ds.rdtype, ds.key_tag, ds.algorithm, ds.digest_type, bytes(digest))


def _owner(zone: ZoneState, name: str | None) -> str:
    """An owner name relative to the zone ('www', '@') or absolute, as an absolute lower-case name."""
    origin = dns.name.from_text(zone.name)
    try:
        owner = dns.name.from_text(name or "@", origin=origin)
    except dns.exception.DNSException as exc:
        raise ScenarioError(f"{name!r} is not a valid owner name: {exc}", fix="write e.g. www or www.example.jp.") \
            from None
    if not owner.is_subdomain(origin):
        raise ScenarioError(f"{owner} is not in zone {zone.name}", fix=f"name something in {zone.name}")
    return owner.to_text().lower()


def _rdtype(text: str) -> str:
    try:
        return dns.rdatatype.to_text(dns.rdatatype.from_text(str(text)))
    except dns.exception.DNSException:
        raise ScenarioError(f"{text!r} is not a DNS record type", fix="use A, AAAA, TXT, DNSKEY, DS, ...") from None


# ---- keys --------------------------------------------------------------------------------------------------------

_NEW_KEY = {"zone": ZONE, "key": KEY,
            "role": ("text", "for a new key: ksk, zsk or csk"),
            "algorithm": ("int", "for a new key: its DNSSEC algorithm (default: the zone's)")}


@action("generate-key", reference="RFC 7583 section 3.1 (the Generated state)", params=_NEW_KEY,
        required=("zone", "key", "role"),
        summary="make a new key that is neither published nor signing yet (its DS can be submitted: double-DS)")
def generate_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    _make_key(state, env, _signed_zone(state, params), params, published=False, active=False)


@action("publish-key", reference="RFC 7583 section 3.2.1 (pre-publication)", params=_NEW_KEY,
        required=("zone", "key"),
        summary="publish a key's DNSKEY without signing with it; a new name makes a new key (pre-publication)")
def publish_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    if params["key"] in zone.keys:
        zone.key(params["key"]).published = True
        return
    _make_key(state, env, zone, params, published=True, active=False)


@action("activate-key", reference="RFC 7583 section 3.2.1; RFC 6781 section 4.1.4", params=_NEW_KEY,
        required=("zone", "key"),
        summary="start signing with a key (its role says what it signs); a new name makes a new key that signs "
                "before its DNSKEY is published, the first step of an algorithm rollover")
def activate_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    if params["key"] in zone.keys:
        zone.key(params["key"]).active = True
        return
    _make_key(state, env, zone, params, published=False, active=True)


@action("retire-key", reference="RFC 7583 section 3.2.1", params={"zone": ZONE, "key": KEY}, required=("zone", "key"),
        summary="stop signing with a key; its DNSKEY stays published")
def retire_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    _signed_zone(state, params).key(params["key"]).active = False


@action("revoke-key", reference="RFC 5011 section 2.1", params={"zone": ZONE, "key": KEY}, required=("zone", "key"),
        summary="set a KSK's REVOKE bit; it stays published and signs the DNSKEY RRset, as RFC 5011 requires")
def revoke_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    key = _signed_zone(state, params).key(params["key"])
    if not key.is_sep:
        raise ScenarioError(f"key {key.name} is a {key.role}; only a KSK or CSK (a trust anchor) is revoked",
                            fix="revoke the zone's KSK")
    key.revoked = True
    key.published = True
    key.active = True


@action("unpublish-key", reference="RFC 6781 section 4.1.4 (the DNSKEY removal step)",
        params={"zone": ZONE, "key": KEY}, required=("zone", "key"),
        summary="take a key's DNSKEY out of the zone while it still signs: the old algorithm's keys leave before "
                "its signatures do")
def unpublish_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    _signed_zone(state, params).key(params["key"]).published = False


@action("remove-key", reference="RFC 7583 section 3.2.1, 3.3.1", params={"zone": ZONE, "key": KEY},
        required=("zone", "key"), summary="remove a key: its DNSKEY leaves the zone and it signs nothing")
def remove_key(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    # the key stays known by name: the parent may still publish its DS (withdraw-ds names it)
    key = _signed_zone(state, params).key(params["key"])
    key.published = False
    key.active = False


# ---- the parent's DS (the registrar path) ------------------------------------------------------------------------

@action("withdraw-ds", reference="RFC 7583 section 3.3; RFC 4035 section 4.4 (going insecure)",
        params={"zone": ZONE, "key": ("text", "withdraw only this key's DS (default: every DS of the zone)")},
        scalar="zone", required=("zone",),
        summary="the registrant withdraws its DS through the registrar (one key's, or all: the zone goes insecure)")
def withdraw_ds(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    if "key" not in params:
        zone.parent_ds = []
        return
    key = zone.key(params["key"])
    kept = [ds for ds in zone.parent_ds if not _ds_matches(ds, key)]
    if len(kept) == len(zone.parent_ds):
        raise ScenarioError(f"the parent of {zone.name} publishes no DS for key {key.name}",
                            fix="withdraw a DS the parent has (submit-ds adds one)")
    zone.parent_ds = kept


# ---- signing -----------------------------------------------------------------------------------------------------

@action("sign-zone", reference="RFC 4035 section 2; RFC 6781 section 4",
        params={"zone": ZONE, "algorithm": ("int", "DNSSEC algorithm (default 13)"),
                "keys": ("text", "ksk-zsk (default) or csk")},
        scalar="zone", required=("zone",),
        summary="sign an unsigned zone with new keys (named ksk and zsk, or csk); the parent gets no DS yet")
def sign_zone(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    if zone.signed:
        raise ScenarioError(f"zone {zone.name} is signed already", fix="drop this action, or unsign-zone first")
    zone.signed = True
    zone.algorithm = int(params.get("algorithm", zone.algorithm))
    zone.keys = {}
    layout = _choice(params, "keys", ("ksk-zsk", "csk"), "ksk-zsk")
    for role in (("csk",) if layout == "csk" else ("ksk", "zsk")):
        _make_key(state, env, zone, {"key": role, "role": role, "algorithm": zone.algorithm}, published=True,
                  active=True)


@action("unsign-zone", reference="RFC 4035 section 4.4; RFC 6781 section 4.3.5 (going insecure)",
        params={"zone": ZONE}, scalar="zone", required=("zone",),
        summary="serve the zone unsigned: no keys, no signatures (the parent's DS is untouched: withdraw it first)")
def unsign_zone(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    zone.signed = False
    zone.keys = {}


@action("change-algorithm", reference="RFC 6781 section 4.1.4",
        params={"zone": ZONE, "algorithm": ("int", "the new DNSSEC algorithm")}, required=("zone", "algorithm"),
        summary="switch every key of the zone to a new algorithm in one step (new keys named <role>-<alg>, old ones "
                "removed, the parent's DS untouched): the abrupt switch RFC 6781 4.1.4's rollover avoids")
def change_algorithm(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    algorithm = int(params["algorithm"])
    roles = list(dict.fromkeys(k.role for k in zone.keys.values())) or ["ksk", "zsk"]
    zone.keys = {}
    zone.algorithm = algorithm
    for role in roles:
        name = f"{role}-{algorithm}"
        _make_key(state, env, zone, {"key": name, "role": role, "algorithm": algorithm}, published=True,
                  active=True)


@action("set-denial", reference="RFC 5155; RFC 9276",
        params={"zone": ZONE, "denial": ("text", "nsec or nsec3"), "iterations": ("int", "NSEC3 extra iterations"),
                "salt": ("text", "NSEC3 salt, hex ('' or '-' for none)"), "opt_out": ("bool", "NSEC3 opt-out")},
        required=("zone", "denial"),
        summary="change the zone's denial of existence: NSEC to NSEC3 and back, or the NSEC3 parameters")
def set_denial(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    zone.denial = "nsec3" if _choice(params, "denial", DENIALS) == "nsec3" else "nsec"
    salt = str(params.get("salt", zone.nsec3.salt))
    salt = "" if salt == "-" else salt
    try:
        bytes.fromhex(salt)
    except ValueError:
        raise ScenarioError(f"NSEC3 salt {salt!r} is not hexadecimal", fix="write e.g. salt: ab12, or '-' for none") \
            from None
    zone.nsec3 = Nsec3Params(iterations=int(params.get("iterations", zone.nsec3.iterations)), salt=salt,
                             opt_out=bool(params.get("opt_out", zone.nsec3.opt_out)))


_SERVER = ("text", "only this server of the zone (a secondary whose zone transfers stopped); default: all")


def _server_of(state: LabState, params: dict[str, Any], env: ActionEnv) -> str | None:
    zone = state.zone(params["zone"])
    server = params.get("server")
    if server is None:
        return None
    servers = env.topology.zones[zone.name].servers if env.topology is not None else None
    if servers is not None and server not in servers:
        raise ScenarioError(f"zone {zone.name} is not served by {server!r} (its servers: {', '.join(servers)})",
                            fix=f"name one of its servers, or give {zone.name} more: zones: {{{zone.name} "
                                f"{{servers: [child, child-b]}}}}")
    return str(server)


@action("freeze-zone", reference="RFC 4035 section 5.3.1; RFC 6781 section 4.3.5.1",
        params={"zone": ZONE, "server": _SERVER}, scalar="zone", required=("zone",),
        summary="the zone's servers (or one of them) keep serving the version published last (a stalled signer or "
                "zone transfer): changes made from now on wait there, and its signatures age")
def freeze_zone(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    server = _server_of(state, params, env)
    if server is None:
        state.zone(params["zone"]).frozen = True
    else:
        state.zone(params["zone"]).frozen_on.add(server)


@action("unfreeze-zone", reference="RFC 4035 section 5.3.1", params={"zone": ZONE, "server": _SERVER},
        scalar="zone", required=("zone",),
        summary="publication resumes (everywhere, or on one server): the zone's current state is signed and served")
def unfreeze_zone(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    server = _server_of(state, params, env)
    if server is None:
        state.zone(params["zone"]).frozen = False
        state.zone(params["zone"]).frozen_on.clear()
    else:
        state.zone(params["zone"]).frozen_on.discard(server)


@action("resign", reference="RFC 4035 section 5.3.1; RFC 6781 section 4.4.2",
        params={"zone": ("zones", "the zone(s) to re-sign (default: every zone)")}, scalar="zone",
        summary="sign and publish now, with fresh signatures from the lab clock, also a frozen zone (once; it stays "
                "frozen). Zones not frozen are re-signed at every phase anyway")
def resign(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    names = params.get("zone") or tuple(state.zones)
    for name in (names if isinstance(names, tuple | list) else (names,)):
        state.zone(name).publish_once = True


# ---- data and TTLs -----------------------------------------------------------------------------------------------

@action("set-ttl", reference="RFC 7583 section 3 (TTLs set every waiting period)",
        params={"zone": ZONE, "type": ("text", "record type; DNSKEY sets the zone's DNSKEY TTL, DS its DS TTL at "
                                                "the parent"),
                "name": ("text", "owner, relative to the zone or absolute (default: the apex)"),
                "ttl": ("duration", "the new TTL")},
        required=("zone", "type", "ttl"),
        summary="change a TTL: of an RRset, of the zone's DNSKEY RRset, or of its DS RRset at the parent")
def set_ttl(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    rdtype = _rdtype(params["type"])
    ttl = int(params["ttl"])
    if rdtype == "DNSKEY":
        zone.dnskey_ttl = ttl
    elif rdtype == "DS" and params.get("name") in (None, "@", zone.name):
        if zone.parent is None:
            raise ScenarioError("the root has no DS", fix="set the DS TTL of a zone below the root")
        zone.ds_ttl = ttl
    else:
        zone.ttls[(_owner(zone, params.get("name")), rdtype)] = ttl


@action("set-records", reference="RFC 2181 section 5 (an RRset is replaced as a whole)",
        params={"zone": ZONE, "name": ("text", "owner, relative to the zone or absolute"),
                "type": ("text", "record type"), "data": ("any", "the new record data: one text or a list"),
                "ttl": ("duration", "TTL (default: the RRset's current TTL, else 300)")},
        required=("zone", "name", "type", "data"),
        summary="replace an RRset's data (the zone is re-signed with the rest): shows when resolvers see a change")
def set_records(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    owner = _owner(zone, params["name"])
    rdtype = _rdtype(params["type"])
    data = params["data"]
    texts = tuple(str(item) for item in (data if isinstance(data, list | tuple) else [data]))
    for text in texts:
        try:
            dns.rdata.from_text(dns.rdataclass.IN, rdtype, text, origin=dns.name.from_text(zone.name))
        except dns.exception.DNSException as exc:
            raise ScenarioError(f"{text!r} is not valid {rdtype} data: {exc}",
                                fix=f"write the data as in a zone file for type {rdtype}") from None
    old = zone.rrsets.get((owner, rdtype))
    ttl = int(params.get("ttl", old[0] if old else zone.ttls.get((owner, rdtype), 300)))
    zone.rrsets[(owner, rdtype)] = (ttl, texts)


# ---- the clock and the trust anchor ------------------------------------------------------------------------------

@action("advance", reference="RFC 7583 section 3 (the waiting periods)",
        params={"by": ("duration", "how far: 400s, 90m, 2h, 30d, 1d12h")}, scalar="by", required=("by",),
        summary="move the lab clock forward: every resolver on the virtual clock sees the time jump, TTLs run out "
                "and signatures age; every zone not frozen is re-signed at the new time. With a resolver that "
                "cannot run on the virtual clock, the time passes for real instead (short advances only)")
def advance(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    seconds = int(params["by"])
    if seconds <= 0:
        raise ScenarioError("advance needs a positive duration", fix="write e.g. advance: 2h")
    if env.wait_real is not None:
        env.wait_real(seconds)
        return
    state.clock.advance(seconds)


@action("set-trust-anchor", reference="RFC 4033 section 5; RFC 5011",
        params={"mode": ("text", "static (a fixed anchor), managed (RFC 5011 from that anchor) or none"),
                "keys": ("any", "anchor these root keys, by name (default: the root's current KSKs): a resolver "
                                "configured, or coming back, with an old key"),
                "restart": ("bool", "start the resolvers afresh even if the anchor is unchanged: a resolver back "
                                    "from a long outage, or reinstalled, with nothing but its configured anchor")},
        scalar="mode", required=("mode",),
        summary="configure the resolvers' root trust anchor: the root's current KSKs (or the keys named), static or "
                "RFC 5011-managed, or none at all (the resolvers restart, as after an operator's config change)")
def set_trust_anchor(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    mode = _choice(params, "mode", ANCHOR_MODES)
    state.anchor = [] if mode == "none" else state.root_anchor()
    if mode != "none" and "keys" in params:
        given = params["keys"]
        names = [str(k) for k in (given if isinstance(given, list | tuple) else [given])]
        keys = [state.zone(".").key(name) for name in names]
        if not all(k.is_sep for k in keys):
            raise ScenarioError("a trust anchor names the root's KSKs", fix="name root keys with role ksk or csk")
        # the key as the operator copied it once: without the REVOKE bit it has since been given
        state.anchor = [f". IN DS {make_ds(k.key, 2).to_text()}" for k in keys]
    state.anchor_managed = mode == "managed"
    state.restart_resolvers = bool(params.get("restart", False))
    if "keys" in params or state.restart_resolvers:
        # an operator's own anchor change (not the initial setup): the roll checklist lists it
        from testbed.registry.events import RegistryEvent

        given = params.get("keys", "the root's current KSKs")
        named = ", ".join(map(str, given)) if isinstance(given, list | tuple) else str(given)
        state.events.append(RegistryEvent(
            scenario=env.scenario, phase=env.phase, parent=".", child=".", action="set-trust-anchor", decision=mode,
            reason=f"the operator configures a {mode} anchor for {named}" + (" and restarts" if params.get("restart")
                                                                              else ""),
            acceptance="-", policy="-", at=state.clock.now(), details=tuple(a.name for a in env.adapters),
            zones=tuple(state.zones)))


@action("await-anchor", reference="RFC 5011 section 2.4, 4", needs_lab=True,
        params={"key": ("text", "the root key, by its name in this timeline"),
                "state": ("text", f"the RFC 5011 state to wait for: {', '.join(ANCHOR_STATES)}"),
                "timeout": ("duration", f"real time to wait at most (default {DEFAULT_ANCHOR_TIMEOUT_S}s)")},
        required=("key", "state"),
        summary="wait until every resolver tracking the root anchor (RFC 5011) reports the root key in a state: "
                "a condition wait on each resolver's own account, not a sleep")
def await_anchor(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    if not state.anchor_managed:
        raise ScenarioError("await-anchor needs an RFC 5011-managed anchor", fix="add '- set-trust-anchor: managed'")
    want = _choice(params, "state", ANCHOR_STATES)
    key = state.zone(".").key(params["key"])
    # resolvers name a revoked key by its new key tag (the REVOKE bit is part of the DNSKEY): accept either
    tags = {key.key.key_tag, key.key.with_flags(key.key.flags | REVOKE_FLAG).key_tag}
    assert env.lab is not None
    lab = env.lab
    waiting = [a for a in env.adapters if a.supports_managed_anchor and a.name in lab.resolvers]
    timeout = float(params.get("timeout", DEFAULT_ANCHOR_TIMEOUT_S))
    deadline = time.monotonic() + timeout
    last_refresh = 0.0
    seen: dict[str, dict[int, str]] = {}
    while waiting:
        if time.monotonic() - last_refresh >= ANCHOR_REFRESH_EVERY_S:
            for adapter in waiting:
                command = adapter.anchor_refresh_command(lab.resolvers[adapter.name].ctx)
                if command:
                    lab.resolver_exec(adapter.name, command)
            last_refresh = time.monotonic()
        for adapter in list(waiting):
            rc, out = lab.resolver_exec(adapter.name, adapter.anchor_status_command(lab.resolvers[adapter.name].ctx)
                                        or ["true"])
            states = adapter.parse_anchor_status(out) if rc == 0 else {}
            seen[adapter.name] = states
            found = {states[t] for t in tags if t in states}
            if want in found or (want == "removed" and not found and states):
                waiting.remove(adapter)
        if not waiting:
            break
        if time.monotonic() > deadline:
            report = "; ".join(f"{a.name}: {_states_text(seen.get(a.name, {}))}" for a in waiting)
            raise LabError(f"after {timeout:.0f} s the root key {key.name} (tag {key.key.key_tag}) is still not "
                           f"{want!r} at {', '.join(a.name for a in waiting)} ({report})",
                           fix="give the resolvers more time (timeout: ...), or check that the phase before let "
                               "them see the key (its DNSKEY TTL, the hold-down)")
        time.sleep(ANCHOR_POLL_S)
    record_anchor_states(state, env, want, key.name, seen)


def record_anchor_states(state: LabState, env: ActionEnv, want: str, key_name: str,
                         seen: dict[str, dict[int, str]]) -> None:
    """What each resolver's RFC 5011 account said when the wait ended, by key name, for the reports: the ISP
    operator's view of the roll (which keys each resolver trusts)."""
    from testbed.registry.events import RegistryEvent

    names: dict[int, str] = {}
    for k in state.zone(".").keys.values():
        names[k.key.key_tag] = k.name
        names[k.key.with_flags(k.key.flags | REVOKE_FLAG).key_tag] = k.name
    lines = []
    for resolver, states in sorted(seen.items()):
        trusted = sorted({names.get(tag, str(tag)) for tag, s in states.items() if s == "trusted"})
        text = ", ".join(f"{names.get(tag, '?')} ({tag}) {s}" for tag, s in sorted(states.items()))
        verdict = f"trusts only {trusted[0]}" if len(trusted) == 1 else \
            f"trusts {', '.join(trusted)}" if trusted else "trusts no root key"
        lines.append(f"{resolver}: {verdict}; {text}")
    state.events.append(RegistryEvent(
        scenario=env.scenario, phase=env.phase, parent=".", child=".", action="await-anchor", decision=want,
        reason=f"root key {key_name} {want} at every resolver tracking the root anchor (RFC 5011): " + "; ".join(
            lines), acceptance="-", policy="RFC 5011", at=state.clock.now(), details=tuple(lines),
        zones=tuple(state.zones)))


def _states_text(states: dict[int, str]) -> str:
    return ", ".join(f"{tag} {s}" for tag, s in sorted(states.items())) or "no keys reported"
