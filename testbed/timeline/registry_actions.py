"""Timeline actions on the registry side: the registry's policy, DS submissions through the parental agent, the
child's CDS/CDNSKEY and the registry's scans of them (testbed/registry/ holds the agent itself).

``submit-ds`` goes through the parental agent of the child's parent. Under ``acceptance: none`` (the default) the
registry publishes what the registrar submitted, as before; under ``acceptance: strict`` the agent asks the child's
name servers for their DNSKEY RRset over DNS in the lab and publishes only a DS that is safe (testbed/registry/
agent.py lists the rules). Every decision becomes a ``RegistryEvent`` for the reports.
"""

from __future__ import annotations

from typing import Any

import dns.rdtypes.ANY.DS

from testbed.errors import ScenarioError
from testbed.registry.agent import check_ds, ds_text
from testbed.registry.events import ACCEPTED, PUBLISHED, REJECTED, RegistryEvent
from testbed.registry.fetch import fetch_all, name_servers
from testbed.registry.policy import ACCEPTANCES, POLICIES, get_policy
from testbed.timeline.actions import ZONE, ActionEnv, _signed_zone, _typo, action
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
                "acceptance": ("text", f"{' or '.join(ACCEPTANCES)}: check each submitted DS against the child's "
                                       "live DNSKEY RRset, or publish it as submitted"),
                "policy": ("text", f"the rules for checks and scans: {', '.join(POLICIES)} (default lab)")},
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
