"""A DNS message as dig prints it: the header, the OPT pseudosection with EDE, then each section."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset

_FLAG_ORDER = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")


def dig_text(message: dns.message.Message, *, label: str = "") -> str:
    flags = dns.flags.to_text(message.flags).split()
    shown = " ".join(f.lower() for f in _FLAG_ORDER if f in flags)
    lines = [f";; {label}" if label else None,
             f";; ->>HEADER<<- opcode: {dns.opcode.to_text(message.opcode())}, "
             f"status: {dns.rcode.to_text(message.rcode())}, id: {message.id}",
             f";; flags: {shown}; QUERY: {len(message.question)}, ANSWER: {_count(message.answer)}, "
             f"AUTHORITY: {_count(message.authority)}, ADDITIONAL: {_count(message.additional)}"]
    if message.edns >= 0:
        do = " do" if message.ednsflags & dns.flags.DO else ""
        lines += ["", ";; OPT PSEUDOSECTION:", f"; EDNS: version: {message.edns}, flags:{do}; udp: {message.payload}"]
        for option in message.options:
            if isinstance(option, dns.edns.EDEOption):
                name = dns.edns.EDECode.to_text(option.code).replace("_", " ").title()
                lines.append(f"; EDE: {int(option.code)} ({name})" + (f": ({option.text})" if option.text else ""))
    lines += ["", ";; QUESTION SECTION:"]
    lines += [f";{q.name}\t\tIN\t{dns.rdatatype.to_text(q.rdtype)}" for q in message.question]
    for title, section in (("ANSWER", message.answer), ("AUTHORITY", message.authority),
                           ("ADDITIONAL", message.additional)):
        if section:
            lines += ["", f";; {title} SECTION:"] + [_rrset(rrset) for rrset in section]
    return "\n".join(line for line in lines if line is not None) + "\n"


def _count(section: list[dns.rrset.RRset]) -> int:
    return sum(len(rrset) for rrset in section)


def _rrset(rrset: dns.rrset.RRset) -> str:
    return "\n".join(line.replace(" ", "\t", 4) for line in rrset.to_text().splitlines())
