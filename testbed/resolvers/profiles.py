"""Standards profiles: which resolver configuration a run holds the resolvers to.

``defaults``  each vendor's configuration as shipped (plus what every lab needs: our anchor, hints, EDE on, logs).
``rfc2026``   the current RFCs, where the resolver has a knob for them:
              RFC 9905 section 2, operators MUST treat RSASHA1 (5) and RSASHA1-NSEC3-SHA1 (7) as unsupported, so
              zones signed only with them are insecure; RFC 9276 section 3.2, NSEC3 above a small iteration count
              MAY be treated as insecure (ITERATION_LIMIT: the limit BIND 9.20, Knot Resolver 5.7 and PowerDNS
              Recursor 5 ship, landscape-2026.md section 3); RFC 8914 EDE on (every adapter already turns it on).

A resolver without a knob keeps its shipped behaviour under rfc2026 (``KNOBS`` says which have which), so its
verdicts are the same under both profiles. Knobs (each checked against the daemon's own config checker):
  BIND 9.18/9.20   disable-algorithms "." { RSASHA1; NSEC3RSASHA1; };  NSEC3 limit is compiled in (150/50)
  Unbound          val-nsec3-keysize-iterations;  no algorithm switch (only a crypto policy, not a config knob)
  PowerDNS 4.8     nsec3-max-iterations;  no algorithm switch in 4.8
  PowerDNS 5       dnssec.nsec3_max_iterations and dnssec.disabled_algorithms
  Knot Resolver 5  none: the NSEC3 limit is compiled in, algorithms cannot be switched off
"""

from __future__ import annotations

from testbed.errors import TestbedError

DEFAULT_PROFILE = "defaults"
PROFILES = ("defaults", "rfc2026")
ITERATION_LIMIT = 50
SHA1_ALGORITHMS = (5, 7)

# software -> the rfc2026 requirements its configuration can express ("sha1", "iterations")
KNOBS: dict[str, tuple[str, ...]] = {
    "bind": ("sha1",),
    "unbound": ("iterations",),
    "pdns": ("iterations",),          # PowerDNS 5 (YAML settings) adds "sha1", see pdns_yaml
    "knot": (),
}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise TestbedError(f"unknown profile {profile!r}", fix=f"use one of: {', '.join(PROFILES)}")
    return profile


def bind_options(profile: str) -> str:
    """Lines for BIND's options block."""
    if profile != "rfc2026":
        return ""
    return '    // RFC 9905 section 2: SHA-1 algorithms are unsupported, zones signed only with them insecure\n' \
           '    disable-algorithms "." { RSASHA1; NSEC3RSASHA1; };\n'


def unbound_server(profile: str) -> str:
    """Lines for Unbound's server: clause (RSA key sizes, each with the same iteration limit)."""
    if profile != "rfc2026":
        return ""
    pairs = " ".join(f"{size} {ITERATION_LIMIT}" for size in (1024, 2048, 4096))
    return f'    # RFC 9276 section 3.2: NSEC3 above {ITERATION_LIMIT} iterations is insecure\n' \
           f'    val-nsec3-keysize-iterations: "{pairs}"\n'


def pdns_old_style(profile: str) -> str:
    """Lines for PowerDNS Recursor 4.8's recursor.conf."""
    if profile != "rfc2026":
        return ""
    return f"# RFC 9276 section 3.2 (4.8 has no switch for algorithms)\nnsec3-max-iterations={ITERATION_LIMIT}\n"


def pdns_yaml(profile: str) -> str:
    """Lines for PowerDNS Recursor 5's dnssec: section (indented two spaces)."""
    if profile != "rfc2026":
        return ""
    return f"  # RFC 9276 section 3.2 and RFC 9905 section 2\n  nsec3_max_iterations: {ITERATION_LIMIT}\n" \
           "  # RSASHA1 and RSASHA1-NSEC3-SHA1, as numbers: 5.4.9 reads the list with stoull\n" \
           '  disabled_algorithms: ["5", "7"]\n'
