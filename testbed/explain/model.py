"""What a chain-of-trust walk found: zones from the trust anchor down, each with its judged links.

A ``Link`` is one thing a validator must check (the DS of a zone against its DNSKEYs, the RRSIG over an RRset, a
denial proof). Its verdict is one of ``VERDICTS``; the first link that is neither valid nor merely informational is
the broken one, and its ``sentence`` is what an operator would write in a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["valid", "invalid", "missing", "insecure", "info", "error"]
VERDICTS: tuple[Verdict, ...] = ("valid", "invalid", "missing", "insecure", "info", "error")
BROKEN: frozenset[str] = frozenset({"invalid", "missing", "error"})
# Link kinds, one per thing a validator looks at
Kind = Literal["anchor", "ds", "dnskey", "rrsig", "denial", "delegation", "server", "answer"]


@dataclass
class Link:
    """One judged link. ``facts`` carries the key facts the sentence names (zone, rrset, key tag, kind...), so
    tests and reports can compare them with what was injected without parsing prose."""

    kind: Kind
    subject: str                    # what is judged: "example.jp. DNSKEY", "www.example.jp./A", "DS example.jp."
    verdict: Verdict
    detail: str = ""                # one line for the tree: why valid / why not
    sentence: str = ""              # a full sentence, set on broken and insecure links
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def broken(self) -> bool:
        return self.verdict in BROKEN

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "verdict": self.verdict, "detail": self.detail,
                "sentence": self.sentence, "facts": dict(self.facts)}


@dataclass
class ZoneStep:
    """One zone on the way down: where it was asked, and its links in the order a validator checks them."""

    zone: str
    servers: list[str] = field(default_factory=list)      # "ns1.example.jp. (10.53.0.6)"
    secure: bool = True                                   # False below an insecure delegation or the anchor
    links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)        # how a server misbehaved on the way (EDNS, retries)

    def to_json(self) -> dict[str, Any]:
        return {"zone": self.zone, "servers": list(self.servers), "secure": self.secure,
                "links": [link.to_json() for link in self.links], "notes": list(self.notes)}


@dataclass
class Chain:
    """The whole walk for one query name and type, judged at ``now`` (the lab clock)."""

    qname: str
    qtype: str
    now: int
    steps: list[ZoneStep] = field(default_factory=list)
    rcode: str | None = None                                  # the final authoritative answer's rcode
    followed: list[Chain] = field(default_factory=list)       # CNAME targets walked on their own

    def all_steps(self) -> list[ZoneStep]:
        return self.steps + [step for sub in self.followed for step in sub.all_steps()]

    def links(self) -> list[Link]:
        own = [link for step in self.steps for link in step.links]
        return own + [link for sub in self.followed for link in sub.links()]

    @property
    def broken(self) -> Link | None:
        return next((link for link in self.links() if link.broken), None)

    @property
    def insecure(self) -> Link | None:
        return next((link for link in self.links() if link.verdict == "insecure"), None)

    @property
    def outcome(self) -> str:
        """What a validator should conclude: bogus (a link is broken), insecure (a proven insecure link), else
        secure. A server that does not answer makes it ``servfail``."""
        link = self.broken
        if link is not None:
            return "servfail" if link.kind == "server" else "bogus"
        return "insecure" if self.insecure is not None else "secure"

    @property
    def sentence(self) -> str:
        """The first broken link in one sentence; for a sound chain, what makes it secure or insecure."""
        link = self.broken or self.insecure
        if link is not None:
            text = link.sentence or link.detail
            notes = [note for step in self.all_steps() if link in step.links for note in step.notes]
            return text + (f" ({'; '.join(notes)})" if notes else "")
        notes = [note for step in self.all_steps() for note in step.notes]
        return (f"every link from the trust anchor to {self.qname.rstrip('.') or '.'}/{self.qtype} is valid: "
                f"the answer is secure" + (f" (on the way: {'; '.join(notes)})" if notes else ""))

    def to_json(self) -> dict[str, Any]:
        return {"qname": self.qname, "qtype": self.qtype, "now": self.now, "rcode": self.rcode,
                "outcome": self.outcome, "sentence": self.sentence,
                "steps": [step.to_json() for step in self.steps],
                "followed": [sub.to_json() for sub in self.followed]}

    def tree(self, indent: str = "") -> str:
        """The chain as an indented tree, one line per zone and per link, each with its verdict."""
        marks = {"valid": "ok", "invalid": "BAD", "missing": "MISSING", "insecure": "insecure", "info": "..",
                 "error": "ERROR"}
        lines = [f"{indent}{self.qname} {self.qtype}"]
        for step in self.steps:
            where = f"  [{', '.join(step.servers)}]" if step.servers else ""
            lines.append(f"{indent}  {step.zone}{'' if step.secure else '  (not validated)'}{where}")
            for link in step.links:
                detail = f": {link.detail}" if link.detail else ""
                lines.append(f"{indent}    {marks[link.verdict]:>8}  {link.subject}{detail}")
            lines += [f"{indent}        note  {note}" for note in step.notes]
        for sub in self.followed:
            lines.append(f"{indent}  CNAME target:")
            lines.append(sub.tree(indent + "    "))
        return "\n".join(lines)
