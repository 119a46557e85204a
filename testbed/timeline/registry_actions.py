"""Timeline actions on the registry side: the registry's policy, DS submissions through the parental agent, the
child's CDS/CDNSKEY and the registry's scans of them (testbed/registry/ holds the agent itself).

``submit-ds`` goes through the parental agent of the child's parent. Under ``acceptance: none`` (the default) the
registry publishes what the registrar submitted, as before; under ``acceptance: strict`` the agent asks the child's
name servers for their DNSKEY RRset over DNS in the lab and publishes only a DS that is safe (testbed/registry/
agent.py lists the rules). Every decision becomes a ``RegistryEvent`` for the reports.
"""

from __future__ import annotations

from typing import Any

import dns.name
import dns.rdtypes.ANY.DS

from testbed.errors import ScenarioError
from testbed.registry.agent import check_ds, ds_text, lab_time
from testbed.registry.events import ACCEPTED, DELETED, NOTHING, PUBLISHED, REJECTED, WAITING, RegistryEvent
from testbed.registry.fetch import fetch_all, name_servers
from testbed.registry.policy import ACCEPTANCES, POLICIES, RegistryPolicy, get_policy
from testbed.timeline.actions import ZONE, ActionEnv, _make_key, _signed_zone, _typo, action
from testbed.timeline.state import LabState, RegistrySettings, ZoneState


def _parent_of(state: LabState, zone: ZoneState) -> str:
    if zone.parent is None:
        raise ScenarioError("the root has no parent, so no registry to submit a DS to",
                            fix="name a zone below the root")
    return zone.parent


def record(state: LabState, env: ActionEnv, zone: ZoneState, action_id: str, decision: str, reason: str,
           submitted: list[str], *, scans: int = 0, details: tuple[str, ...] = ()) -> RegistryEvent:
    parent = _parent_of(state, zone)
    settings = state.registry_for(parent)
    event = RegistryEvent(scenario=env.scenario, phase=env.phase, parent=parent, child=zone.name, action=action_id,
                          decision=decision, reason=reason, acceptance=settings.acceptance, policy=settings.policy,
                          at=state.clock.now(), submitted=tuple(submitted),
                          ds_after=tuple(ds_text(ds) for ds in zone.parent_ds), scans=scans, details=details,
                          zones=tuple(state.zones))
    state.events.append(event)
    return event


# ---- the registry's rules ----------------------------------------------------------------------------------------

@action("registry-policy", reference="RFC 7344 section 4.1; RFC 9905 section 2",
        params={"zone": ("zone", "the registry's zone (the parent), default: every parent in the lab"),
                "acceptance": ("choice:" + "|".join(ACCEPTANCES),
                               "strict: check each submitted DS against the child's live DNSKEY RRset; none: "
                               "publish it as submitted"),
                "policy": ("choice:" + "|".join(POLICIES),
                           f"the rules for checks and scans: {', '.join(POLICIES)} (default lab)")},
        scalar="acceptance",
        summary="set how a registry treats DS submissions (acceptance) and which policy its checks and CDS scans "
                "follow: a lab model of .ch-like and .se-like published policies, or the strict lab default")
def registry_policy(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    acceptance = str(params.get("acceptance", "strict"))
    if acceptance not in ACCEPTANCES:
        raise ScenarioError(f"acceptance {acceptance!r} is not one of: {', '.join(ACCEPTANCES)}",
                            fix="write acceptance: strict (check every DS) or acceptance: none (publish as submitted)")
    name = str(params.get("policy", "lab"))
    get_policy(name)
    where = "*"
    if "zone" in params:
        where = state.zone(params["zone"]).name
        if not any(z.parent == where for z in state.zones.values()):
            raise ScenarioError(f"zone {where} has no child zone in this lab, so its registry has nothing to do",
                                fix="name a parent zone, e.g. jp. (or leave zone out: every parent)")
    state.registry[where] = RegistrySettings(acceptance=acceptance, policy=name)


# ---- DS submissions (the registrar path) -------------------------------------------------------------------------

def _strict(state: LabState, params: dict[str, Any]) -> bool:
    zone = state.zone(params["zone"])
    return zone.parent is not None and state.registry_for(zone.parent).acceptance == "strict"


@action("submit-ds", reference="RFC 7583 section 3.3; RFC 4035 section 5.2; RFC 7344 section 4.1",
        params={"zone": ZONE, "key": ("text", "the key whose DS is submitted, by its name in this timeline"),
                "digest": ("int", "digest type, default: the zone's (2, SHA-256)"),
                "typo": ("bool", "mistype one digit of the digest, as a registrant pasting it by hand might")},
        required=("zone", "key"), needs_lab=True, lab_if=_strict,
        summary="the registrant submits the DS of one of its keys through the registrar; the registry publishes "
                "it as submitted (acceptance: none) or only once its parental agent has checked it against the "
                "child's live DNSKEY RRset (acceptance: strict)")
def submit_ds(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    parent = _parent_of(state, zone)
    key = zone.key(params["key"])
    digests = (int(params["digest"]),) if "digest" in params else None
    submitted = [_typo(ds) if params.get("typo") else ds for ds in zone.ds_for(key, digests)]
    texts = [ds_text(ds) for ds in submitted]
    settings = state.registry_for(parent)
    if settings.acceptance != "strict":
        _publish(zone, submitted)
        record(state, env, zone, "submit-ds", PUBLISHED,
               "published as submitted (acceptance: none: the registry checks nothing)", texts)
        return
    if env.lab is None:
        raise ScenarioError("strict DS acceptance needs a running lab to ask the child's name servers",
                            fix="run the timeline with `testbed run`")
    policy = get_policy(settings.policy)
    servers = name_servers(env.lab.topology, zone.name)
    assert env.lab.backend is not None
    answers = fetch_all(env.lab.backend.in_lab, servers, zone.name, "DNSKEY", tcp=policy.tcp)
    decision = check_ds(zone.name, submitted, answers, policy, state.clock.now())
    if decision.accepted:
        _publish(zone, submitted)
        env.changed = True
    record(state, env, zone, "submit-ds", ACCEPTED if decision.accepted else REJECTED, decision.reason, texts)


def _publish(zone: ZoneState, ds_list: list[dns.rdtypes.ANY.DS.DS]) -> None:
    for ds in ds_list:
        if ds not in zone.parent_ds:
            zone.parent_ds.append(ds)


# ---- the child's CDS/CDNSKEY (the DNS operator's side) -----------------------------------------------------------

@action("publish-cds", reference="RFC 7344 section 3, 4; RFC 8078 section 4",
        params={"zone": ZONE,
                "keys": ("any", "the key(s) whose DS the child asks for: one name or a list (the whole new DS set)"),
                "delete": ("bool", "ask for the DS to be removed instead (CDS 0 0 0 00, CDNSKEY 0 3 0 AA==)"),
                "cdnskey": ("bool", "publish the matching CDNSKEY too (default true)"),
                "digest": ("int", "CDS digest type (default: the zone's DS digests)"),
                "signed_by": ("text", "sign the CDS/CDNSKEY with this key only (default: the zone's KSKs), e.g. "
                                      "zsk: a signer that signs them like any other RRset"),
                "signal": ("bool", "RFC 9615: also publish them under _dsboot.<zone>._signal.<ns> for each name "
                                   "server, in the DNS operator's zone that holds the name server names")},
        required=("zone",),
        summary="the child's DNS operator publishes CDS/CDNSKEY at the apex, signed with the zone: the DS set it "
                "wants at the parent, or a delete request")
def publish_cds(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    if params.get("delete"):
        if "keys" in params:
            raise ScenarioError("publish-cds takes keys or delete: true, not both",
                                fix="a delete request stands alone (RFC 8078 section 4): drop keys")
        zone.cds = ["delete"]
    else:
        keys = params.get("keys")
        if keys is None:
            raise ScenarioError("publish-cds needs the keys the child wants a DS for, or delete: true",
                                fix="add keys: ksk-2 (or a list), or delete: true")
        names = [str(k) for k in (keys if isinstance(keys, list | tuple) else [keys])]
        for name in names:
            if not zone.key(name).is_sep:
                raise ScenarioError(f"key {name} of {zone.name} is a {zone.key(name).role}; a CDS names a KSK or CSK",
                                    fix="name the zone's KSK (e.g. ksk-2)")
        zone.cds = names
    zone.cdnskey = bool(params.get("cdnskey", True))
    zone.cds_digests = (int(params["digest"]),) if "digest" in params else ()
    signer = params.get("signed_by")
    zone.cds_signer = None if signer is None else zone.key(str(signer)).name
    zone.signal = bool(params.get("signal", False))
    if zone.signal:
        for ns in zone.ns_names or _plan_ns(env, zone):
            signal_zone(state, zone, ns)


@action("withdraw-cds", reference="RFC 7344 section 4 (remove the CDS once the parent has acted)",
        params={"zone": ZONE}, scalar="zone", required=("zone",),
        summary="the child's DNS operator removes its CDS/CDNSKEY")
def withdraw_cds(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    zone.cds = None
    zone.cds_signer = None
    zone.signal = False


# ---- the registry's scanner --------------------------------------------------------------------------------------

@action("registry-scan", reference="RFC 7344 section 4.1; RFC 8078 sections 3, 4; RFC 9615", needs_lab=True,
        params={"zone": ZONE,
                "scans": ("int", "scan at most this many times (default: as many as the policy needs to act)")},
        scalar="zone", required=("zone",),
        summary="the parent's registry scans the child's CDS/CDNSKEY on every name server, once per the policy's "
                "interval on the lab clock, and acts when the policy is met: a new DS set (a KSK rollover, or a "
                "first DS: bootstrapping), or the DS removed (RFC 8078 delete); refusals keep the DS as it was")
def registry_scan(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    from testbed.registry.fetch import fetch
    from testbed.registry.scan import compact, decide, scan_answers

    zone = state.zone(params["zone"])
    if zone.parent is None:
        raise ScenarioError("the root has no parent, so no registry scans it",
                            fix="scan a zone below the root, e.g. registry-scan: example.jp.")
    settings = state.registry_for(zone.parent)
    policy = get_policy(settings.policy)
    if env.lab is None or env.lab.backend is None:
        raise ScenarioError("registry-scan needs a running lab to ask the child's name servers",
                            fix="run the timeline with `testbed run`")
    lab = env.lab
    in_lab = env.lab.backend.in_lab
    servers = name_servers(lab.topology, zone.name)
    current = list(zone.parent_ds)
    signal = bootstrap_signal(state, zone, policy, env) if not current and policy.rfc9615 else None
    if signal is not None and not signal[0]:
        # a signal that is there but does not validate is refused outright, not waited out: it may be forged
        record(state, env, zone, "registry-scan", REJECTED,
               f"RFC 9615 bootstrapping refused: {signal[1]} (RFC 9615 section 4.2)", [], scans=0,
               details=(f"RFC 9615 signal: {signal[1]}",))
        return
    required = policy.update_scans if current else (1 if signal and signal[0] else policy.bootstrap_scans)
    most = int(params.get("scans", required))
    if most < 1:
        raise ScenarioError("scans must be 1 or more", fix="write scans: 1 (or leave it out)")
    details: list[str] = [] if signal is None else [f"RFC 9615 signal: {signal[1]}"]
    # the scanner remembers across actions how many scans in a row saw the same request
    streak, last = state.scans.pop(zone.name, (0, None))
    for number in range(1, most + 1):
        if number > 1 or streak:        # the next scan comes an interval after the one before
            state.clock.advance(policy.interval)
            env.changed = True          # the resolvers' clock follows at the next serve
        answers = scan_answers(lambda ns, address, q, t: fetch(in_lab, ns, address, q, t, tcp=policy.tcp), servers,
                               zone.name)
        outcome = decide(zone.name, answers, current, policy, state.clock.now())
        streak = streak + 1 if outcome.seen == last else 1
        last = outcome.seen
        details.append(f"scan {number} at {lab_time(state.clock.now())}: {outcome.kind}: {outcome.reason}")
        seen = [compact(item) for item in sorted(outcome.seen)]
        if outcome.kind == "reject":
            record(state, env, zone, "registry-scan", REJECTED, outcome.reason, seen, scans=number,
                   details=tuple(details))
            return
        if outcome.kind == "none":
            record(state, env, zone, "registry-scan", NOTHING, outcome.reason, seen, scans=number,
                   details=tuple(details))
            return
        if streak >= required:
            how = ("authenticated by the RFC 9615 signal" if signal and signal[0] and not current else
                   f"unchanged in {streak} scan{'s' if streak > 1 else ''} {policy.interval // 3600} h apart"
                   if streak > 1 else "validated against the current DS")
            if outcome.kind == "delete":
                zone.parent_ds = []
                decision, reason = DELETED, f"{outcome.reason}; {how}"
            else:
                zone.parent_ds = list(outcome.ds)
                decision, reason = ACCEPTED, f"{outcome.reason}; {how}"
            env.changed = True
            record(state, env, zone, "registry-scan", decision, reason, seen, scans=number, details=tuple(details))
            return
    if last is not None:
        state.scans[zone.name] = (streak, last)
    record(state, env, zone, "registry-scan", WAITING,
           f"the request was seen unchanged in {streak} scan(s) in a row; the policy {policy.name} wants {required} "
           f"({policy.interval // 3600} h apart) before it acts", [compact(i) for i in sorted(last or ())], scans=most,
           details=tuple(details))


def _plan_ns(env: ActionEnv, zone: ZoneState) -> tuple[str, ...]:
    if env.topology is None:
        return ()
    return env.topology.zones[zone.name].ns_names


def signal_zone(state: LabState, zone: ZoneState, ns: str) -> str:
    """The lab zone that holds ``_signal.<ns>``; refuses name servers inside the child or outside the lab."""
    name = dns.name.from_text(ns)
    if name.is_subdomain(dns.name.from_text(zone.name)):
        raise ScenarioError(f"RFC 9615 signals need name servers outside the child: {ns} is inside {zone.name}, so "
                            "its signal could not be authenticated (RFC 9615 section 4.1)",
                            fix=f"delegate {zone.name} to its DNS operator's servers first, e.g. "
                                f"'- set-ns: {{zone: {zone.name}, ns: ns1.dns-operator.jp.}}' with dns-operator.jp. "
                                "a signed zone of the scenario")
    holders = [z for z in state.zones if z != "." and name.is_subdomain(dns.name.from_text(z))]
    if not holders:
        raise ScenarioError(f"name server {ns} is outside the lab: no zone of this scenario holds it, so nothing "
                            "could serve its address or its signal",
                            fix="use a name in a zone of the scenario (add the DNS operator's zone under zones:, "
                                "e.g. dns-operator.jp.: {records: []})")
    return max(holders, key=lambda z: len(dns.name.from_text(z).labels))


def signal_owner(child: str, ns: str) -> str:
    return f"_dsboot.{child}_signal.{ns}"


def bootstrap_signal(state: LabState, zone: ZoneState, policy: RegistryPolicy,
                     env: ActionEnv) -> tuple[bool, str] | None:
    """RFC 9615 section 4: for every name server of the child, the signal RRsets under
    ``_dsboot.<child>._signal.<ns>`` must validate from the root down and equal the child's own CDS/CDNSKEY.
    (True, how) when they do; (False, why) when a signal is there but fails; None when no name server has one."""
    from testbed.dnssec import make_ds
    from testbed.registry.chain import authenticate
    from testbed.registry.fetch import fetch

    assert env.lab is not None
    lab = env.lab
    backend = lab.backend
    assert backend is not None
    in_lab = backend.in_lab
    root = state.zones["."]
    anchor = [make_ds(k.key, 2) for k in root.published_keys() if k.is_sep and not k.revoked] if root.signed else []
    now = state.clock.now()
    found, problems, good = False, [], []
    for ns, address in name_servers(lab.topology, zone.name):
        if dns.name.from_text(ns).is_subdomain(dns.name.from_text(zone.name)):
            continue            # an in-bailiwick name server can carry no signal (RFC 9615 section 4.1)
        owner = signal_owner(zone.name, ns)
        for rdtype in ("CDS", "CDNSKEY"):
            apex = fetch(in_lab, ns, address, zone.name, rdtype, tcp=True)
            plain = fetch(in_lab, *name_servers(lab.topology, _holder(lab, owner))[0], owner, rdtype, tcp=True)
            if plain.rrset is None and apex.rrset is None:
                continue
            if plain.rrset is None:
                problems.append(f"{ns}: no {rdtype} signal at {owner}")
                continue
            found = True
            rrset, why = authenticate(in_lab, lab.topology, anchor, owner, rdtype, now)
            if rrset is None:
                problems.append(f"{ns}: the {rdtype} signal at {owner} is not authenticated: {why}")
            elif apex.records() != frozenset(r.to_text() for r in rrset):
                problems.append(f"{ns}: the {rdtype} signal differs from the child's own {rdtype}")
            else:
                good.append(f"{owner} {rdtype}")
    if not found:
        return None
    if problems:
        return False, "; ".join(problems)
    return True, "authenticated from the root down: " + ", ".join(good)


def _holder(lab: Any, owner: str) -> str:
    from testbed.registry.chain import deepest_zone

    return deepest_zone(lab.topology, owner)


@action("set-ns", reference="RFC 9615 section 4.1 (name servers outside the child); RFC 1034 section 4.2.2",
        params={"zone": ZONE, "ns": ("any", "the name server names, one per server of the zone, e.g. "
                                            "ns1.dns-operator.jp.")},
        required=("zone", "ns"),
        summary="the registrant delegates its zone to name servers named in its DNS operator's zone (the same "
                "servers, new names outside the child): what RFC 9615 bootstrapping needs")
def set_ns(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = state.zone(params["zone"])
    if zone.parent is None:
        raise ScenarioError("the root's name servers come from the root hints", fix="name a zone below the root")
    given = params["ns"]
    names = [str(n) for n in (given if isinstance(given, list | tuple) else [given])]
    names = [n if n.endswith(".") else n + "." for n in names]
    servers = env.topology.zones[zone.name].servers if env.topology is not None else None
    if servers is not None and len(servers) != len(names):
        raise ScenarioError(f"{zone.name} has {len(servers)} server(s) ({', '.join(servers)}) but {len(names)} name(s)",
                            fix="give one name server name per server of the zone")
    for ns in names:
        if not dns.name.from_text(ns).is_subdomain(dns.name.from_text(zone.name)):
            signal_zone(state, zone, ns)      # outside the child: it must be in a zone of the lab
    zone.ns_names = tuple(n.lower() for n in names)


# ---- multi-signer (RFC 8901) and the servers' reachability -------------------------------------------------------

@action("add-operator", reference="RFC 8901 section 2.1.2 (model 2: a ZSK per operator)",
        params={"zone": ZONE, "server": ("text", "the operator's server (one of the zone's servers)"),
                "key": ("text", "the operator's own ZSK, by name (a new name makes a new ZSK, published)"),
                "ksk": ("text", "the operator's own KSK, by name (a new name makes a new KSK, published; its DS is "
                                "submitted separately); default: the zone's shared KSKs"),
                "omit": ("any", "keys the operator's DNSKEY RRset leaves out (a broken key exchange)")},
        required=("zone", "server", "key"),
        summary="a DNS operator signs the zone on its own server with the shared KSKs (or its own KSK) and its own "
                "ZSK; its DNSKEY RRset carries the other operators' ZSKs too, unless it omits them")
def add_operator(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone = _signed_zone(state, params)
    server = str(params["server"])
    servers = env.topology.zones[zone.name].servers if env.topology is not None else (server,)
    if server not in servers:
        raise ScenarioError(f"zone {zone.name} is not served by {server!r} (its servers: {', '.join(servers)})",
                            fix=f"give {zone.name} a server per operator: zones: {{{zone.name} {{servers: [child, "
                                "child-b]}}}}")
    name = str(params["key"])
    if name not in zone.keys:
        _make_key(state, env, zone, {"key": name, "role": "zsk"}, published=True, active=True)
    key = zone.key(name)
    if key.role != "zsk":
        raise ScenarioError(f"key {name} is a {key.role}; an operator signs with its own ZSK", fix="name a ZSK")
    key.published = key.active = True
    zone.operators[server] = name
    if "ksk" in params:
        ksk_name = str(params["ksk"])
        if ksk_name not in zone.keys:
            _make_key(state, env, zone, {"key": ksk_name, "role": "ksk"}, published=True, active=True)
        ksk = zone.key(ksk_name)
        if not ksk.is_sep:
            raise ScenarioError(f"key {ksk_name} is a {ksk.role}; an operator's own KSK signs its DNSKEY RRset",
                                fix="name a KSK (or a new name, which makes one)")
        ksk.published = ksk.active = True
        zone.operator_ksks[server] = ksk_name
    else:
        zone.operator_ksks.pop(server, None)
    omit = params.get("omit")
    zone.omits[server] = {str(k) for k in (omit if isinstance(omit, list | tuple) else [omit])} if omit else set()
    for other in zone.omits[server]:
        zone.key(other)


def _zone_server(state: LabState, params: dict[str, Any], env: ActionEnv) -> tuple[ZoneState, str]:
    zone = _signed_zone(state, params)
    server = str(params["server"])
    servers = env.topology.zones[zone.name].servers if env.topology is not None else (server,)
    if server not in servers:
        raise ScenarioError(f"zone {zone.name} is not served by {server!r} (its servers: {', '.join(servers)})",
                            fix=f"name one of {zone.name}'s servers")
    return zone, server


@action("remove-operator", reference="RFC 8901 sections 2.1.2, 8 (a provider leaves)",
        params={"zone": ZONE, "server": ("text", "the leaving operator's server")}, required=("zone", "server"),
        summary="the operator on server stops signing: the server serves the remaining operators' signed zone, as "
                "a plain secondary, until it leaves the NS set; its keys stay until remove-key withdraws them")
def remove_operator(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone, server = _zone_server(state, params, env)
    if server not in zone.operators:
        raise ScenarioError(f"{server!r} signs nothing of {zone.name} on its own (operators: "
                            f"{', '.join(zone.operators) or 'none'})", fix="add-operator it first, or drop this action")
    del zone.operators[server]
    zone.omits.pop(server, None)
    zone.operator_ksks.pop(server, None)


@action("leave-ns", reference="RFC 1034 section 4.2.2; RFC 8901 section 8 (a provider leaves the NS set)",
        params={"zone": ZONE, "server": ("text", "the server whose name leaves the NS set")},
        required=("zone", "server"),
        summary="take one server's name out of the zone's NS RRset, at the parent (delegation and glue) and at the "
                "child's apex; the server itself keeps running until server-down stops it")
def leave_ns(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    zone, server = _zone_server(state, params, env)
    if env.topology is not None and set(env.topology.zones[zone.name].servers) <= zone.ns_left | {server}:
        raise ScenarioError(f"{server!r} is the last server left in {zone.name}'s NS set",
                            fix="keep at least one server in the NS set")
    zone.ns_left.add(server)


@action("server-down", reference="RFC 1034 section 4.3.4 (any server of a zone may answer)",
        params={"server": ("text", "the server host, e.g. child-b")}, scalar="server", required=("server",),
        summary="cut one server off the network (its link down): resolvers reach the zone's other servers only, "
                "which pins which server answers a check")
def server_down(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    server = str(params["server"])
    if env.topology is not None and server not in env.topology.servers:
        raise ScenarioError(f"no server {server!r} in this lab", fix=f"use one of: {', '.join(env.topology.servers)}")
    state.down.add(server)


@action("server-up", reference="RFC 1034 section 4.3.4", params={"server": ("text", "the server host")},
        scalar="server", required=("server",), summary="reconnect a server cut off by server-down")
def server_up(state: LabState, params: dict[str, Any], env: ActionEnv) -> None:
    state.down.discard(str(params["server"]))
