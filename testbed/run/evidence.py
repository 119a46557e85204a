"""Evidence for a verdict: what a person needs to see why a check did not pass, without opening the lab folder.

- ``log``: the resolver's own log lines written while it answered this check (the log is marked before the query
  and read after, waiting until the resolver's reason line appears or the log stops growing);
- ``wire``: both answers (DO=1, then CD=1) as dig prints them;
- ``chain``: our own chain-of-trust walk of the name against the lab's servers (testbed/explain), and ``why``, its
  sentence naming the first broken link.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testbed.explain.model import Chain
    from testbed.lab.lab import Lab
    from testbed.run.observation import Observation

EVIDENCE_MODES = ("failing", "all")
LOG_EXCERPT_CHARS = 6000
# Each resolver's own words for a validation failure at the log levels its adapter sets (bogus_log for Knot).
REASON_LINES: dict[str, re.Pattern[str]] = {
    "unbound": re.compile(r"validation failure|error:"),
    "bind": re.compile(r"no valid signature|broken trust chain|insecurity proof failed|validation failed|"
                       r"no valid (?:RRSIG|DS|KEY|NSEC)|bad cache hit|verify failure|got insecure response|hung fetch"),
    "knot": re.compile(r"validation failure|bogus|no valid RRSIGs|>< ", re.IGNORECASE),
    "pdns": re.compile(r"Bogus"),
}
LOG_WAIT_S = 1.5          # the most a log line may lag behind the answer (docker's log stream)
LOG_QUIET_S = 0.15        # a log that has not grown for this long has said what it will say


@dataclass(frozen=True)
class Evidence:
    log: str                      # the excerpt, or a sentence saying why there is none
    log_read: bool                # False: the log could not be read (the excerpt says why)
    wire: str
    why: str = ""
    chain: dict[str, Any] | None = None
    tree: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"log": self.log, "log_read": self.log_read, "wire": self.wire, "chain": self.chain,
                "why": self.why}


def log_mark(lab: Lab, resolver: str) -> int | None:
    try:
        return len(lab.resolver_log(resolver))
    except Exception:  # noqa: BLE001 - evidence must never cost a verdict; the excerpt will say the log is unreadable
        return None


def read_log(lab: Lab, resolver: str, family: str, mark: int | None, *, want_reason: bool = False
             ) -> tuple[str, bool]:
    """The lines after ``mark``, once the reason line is there or the log has gone quiet. ``want_reason`` (a bogus
    answer: the resolver will log why) waits for the reason line up to LOG_WAIT_S, however quiet the log is."""
    if mark is None:
        return f"the log of {resolver} could not be read before the query", False
    pattern = REASON_LINES.get(family)
    deadline = time.monotonic() + LOG_WAIT_S
    last, quiet_since = -1, time.monotonic()
    text = ""
    while True:
        try:
            text = lab.resolver_log(resolver)[mark:]
        except Exception as exc:  # noqa: BLE001
            return f"the log of {resolver} could not be read: {exc}", False
        if pattern is not None and pattern.search(text):
            break
        now = time.monotonic()
        if len(text) != last:
            last, quiet_since = len(text), now
        elif (now - quiet_since >= LOG_QUIET_S and not (want_reason and pattern is not None)) or now >= deadline:
            break
        if now >= deadline:
            break
        time.sleep(0.03)
    text = text.strip("\n")
    if not text:
        return f"{resolver} wrote nothing to its log while answering this check", True
    return excerpt(text, pattern), True


def excerpt(text: str, pattern: re.Pattern[str] | None) -> str:
    """At most LOG_EXCERPT_CHARS: a long trace keeps its reason lines, then its end. Deep indentation (Knot's
    validator indents by recursion depth) is shortened to four spaces."""
    text = re.sub(r" {5,}", "    ", text)
    if len(text) <= LOG_EXCERPT_CHARS:
        return text
    reasons = [line for line in text.splitlines() if pattern is not None and pattern.search(line)][:20]
    head = "\n".join(reasons)[: LOG_EXCERPT_CHARS // 3]
    tail = text[-(LOG_EXCERPT_CHARS - len(head) - 40):]
    return (head + "\n[... the log in between left out ...]\n" if head else "[...]\n") + tail


def wire_text(observation: Observation) -> str:
    if observation.error is not None and not observation.wire:
        return f";; no answer: {observation.error}\n"
    return observation.wire + ("\n" + observation.cd_wire if observation.cd_wire else "")


def chain_for(lab: Lab, qname: str, qtype: str) -> Chain | None:
    """Our walk of ``qname``/``qtype`` against what the lab serves now; one per name and load, shared by resolvers."""
    from testbed.explain.fetch import memo, udp_fetcher
    from testbed.explain.walk import walk

    cache: dict[Any, Any] = lab.__dict__.setdefault("_explain_cache", {})
    generation = lab.loads_done
    if cache.get("generation") != generation:
        cache.clear()
        cache["generation"] = generation
        assert lab.backend is not None
        cache["fetch"] = memo(udp_fetcher(run=lab.backend.in_lab))
    key = (qname, qtype)
    if key not in cache:
        now = int(time.time()) + lab.clock_offset
        cache[key] = walk(qname, qtype, cache["fetch"], lab.trust_anchor, lab.topology.root_hints, now,
                          managed_anchor=lab.trust_anchor_managed)
    chain: Chain = cache[key]
    return chain


def gather(lab: Lab, resolver: str, family: str, mark: int | None, observation: Observation, qname: str,
           qtype: str) -> Evidence:
    log, readable = read_log(lab, resolver, family, mark, want_reason=observation.outcome == "bogus")
    try:
        chain = chain_for(lab, qname, qtype)
    except Exception as exc:  # noqa: BLE001 - a walk that trips must not cost the verdict it explains
        return Evidence(log, readable, wire_text(observation), why=f"the chain walk failed: {exc}")
    if chain is None:
        return Evidence(log, readable, wire_text(observation))
    return Evidence(log, readable, wire_text(observation), why=chain.sentence, chain=chain.to_json(),
                    tree=chain.tree())
