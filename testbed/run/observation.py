"""What one resolver answered to one check, reduced to the fields checks compare.

The probe sends the query with DO=1; when the answer is SERVFAIL it asks again with CD=1, because only that
second answer tells a validation failure (``bogus``: the data is there, it just does not validate) from a
resolver that cannot get an answer at all (``servfail``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from testbed.run.digtext import dig_text

ANSWERING_RCODES = ("NOERROR", "NXDOMAIN")
_TIMEOUT_WORDS = ("timeout", "timed out", "no answer")  # how the probe words "nothing came back in time"
_MAX_CNAME_CHAIN = 16  # a loop in a broken answer must not hang the probe


@dataclass
class Observation:
    """A resolver's answer. ``rcode`` is ``None`` when no response arrived (then ``error`` says why)."""

    rcode: str | None = None
    ad: bool = False
    ede: list[tuple[int, str]] = field(default_factory=list)     # (info code, extra text) per EDE option
    answer: list[str] = field(default_factory=list)              # rdata texts for qname/qtype, CNAMEs followed
    cd_rcode: str | None = None                                   # the CD=1 re-query; None when it was not made
    cd_answer: list[str] | None = None
    error: str | None = None          # why there is no response: "no answer from ... within 5s", "refused", ...
    wire: str = ""                    # evidence: the DO=1 answer as dig prints it
    cd_wire: str = ""                 # ... and the CD=1 answer, when it was asked

    @property
    def outcome(self) -> str:
        """DESIGN.md's outcome word: secure, insecure, bogus, servfail; else the rcode, 'timeout' or 'error'."""
        if self.error is not None or self.rcode is None:
            text = (self.error or "").lower()
            return "timeout" if any(w in text for w in _TIMEOUT_WORDS) else "error"
        if self.rcode in ANSWERING_RCODES:
            return "secure" if self.ad else "insecure"
        if self.rcode == "SERVFAIL":
            # Without a CD=1 answer we cannot show the data exists, so it counts as a plain SERVFAIL.
            return "bogus" if self.cd_rcode in ANSWERING_RCODES else "servfail"
        return self.rcode.lower()

    @property
    def ede_codes(self) -> list[int]:
        return [code for code, _ in self.ede]

    @classmethod
    def from_messages(cls, response: dns.message.Message | None, cd_response: dns.message.Message | None,
                      qname: str | dns.name.Name, qtype: str | int, error: str | None = None) -> Observation:
        """Extract the fields from the DO=1 response and the optional CD=1 response."""
        if response is None:
            return cls(error=error or "no response")
        name = dns.name.from_text(qname) if isinstance(qname, str) else qname
        rdtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else dns.rdatatype.RdataType.make(qtype)
        cd_rcode = dns.rcode.to_text(cd_response.rcode()) if cd_response is not None else None
        return cls(
            rcode=dns.rcode.to_text(response.rcode()),
            ad=bool(response.flags & dns.flags.AD),
            ede=[(int(opt.code), opt.text or "") for opt in response.options if isinstance(opt, dns.edns.EDEOption)],
            answer=answer_texts(response, name, rdtype),
            cd_rcode=cd_rcode,
            cd_answer=answer_texts(cd_response, name, rdtype) if cd_response is not None else None,
            error=error,
            wire=dig_text(response, label="the answer (DO=1)"),
            cd_wire=dig_text(cd_response, label="the same query with CD=1") if cd_response is not None else "",
        )

    def to_json(self) -> dict[str, Any]:
        """The ``observed`` object of DESIGN.md's Result JSON."""
        return {
            "rcode": self.rcode,
            "ad": self.ad,
            "ede": [{"code": code, "text": text} for code, text in self.ede],
            "answer": list(self.answer),
            "cd_rcode": self.cd_rcode,
            "cd_answer": None if self.cd_answer is None else list(self.cd_answer),
        }


def answer_texts(message: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> list[str]:
    """Rdata texts of the qname/qtype RRset, following the CNAME chain through the answer section."""
    current = qname
    for _ in range(_MAX_CNAME_CHAIN):
        cname_target: dns.name.Name | None = None
        for rrset in message.answer:
            if rrset.name != current or rrset.rdclass != dns.rdataclass.IN:
                continue
            if rrset.rdtype == rdtype:
                return [rdata.to_text() for rdata in rrset]
            if rrset.rdtype == dns.rdatatype.CNAME:
                cname_target = rrset[0].target
        if cname_target is None:
            return []
        current = cname_target
    return []
