"""The typed, frozen form of a scenario file. The loader (``loader.py``) builds these; nothing mutates them.

Every object remembers the line it came from, so later stages (fault application, checks) can still point a
person at the right place in the YAML file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["secure", "insecure", "bogus", "servfail"]
OUTCOMES: tuple[str, ...] = ("secure", "insecure", "bogus", "servfail")
DenialKind = Literal["nsec", "nsec3"]
KeyLayout = Literal["ksk-zsk", "csk"]
# Authoritative server software a zone can be served by (testbed/auth/servers/ has one adapter per real one)
BUILTIN_SERVER = "builtin"
SERVER_SOFTWARE: tuple[str, ...] = (BUILTIN_SERVER, "nsd", "knot", "bind")
# Signers a zone can be signed by: ours (testbed/dnssec) or a real tool run by the lab (testbed/build/signers.py)
OUR_SIGNER = "ours"
SIGNERS: tuple[str, ...] = (OUR_SIGNER, "dnssec-signzone", "kzonesign", "ldns-signzone")


@dataclass(frozen=True)
class Where:
    """A position in a scenario file, for error messages."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Nsec3Params:
    iterations: int = 0
    salt: str = ""          # hex, "" for none (RFC 9276 recommends none)
    opt_out: bool = False


@dataclass(frozen=True)
class SigningSpec:
    """How one zone is signed. ``signed: false`` leaves it unsigned and gives its parent no DS."""

    signed: bool = True
    algorithm: int = 13
    keys: KeyLayout = "ksk-zsk"
    denial: DenialKind = "nsec"
    nsec3: Nsec3Params = Nsec3Params()
    ds_digests: tuple[int, ...] = (2,)
    validity_days: int = 30
    inception_offset: int = 3600      # signatures are valid from now - this many seconds


@dataclass(frozen=True)
class ZoneSpec:
    """Scenario-level changes to one zone: new records, a signing policy, which servers serve it.

    For a zone the preset already has, ``records`` are added to the preset's; ``replace_records`` swaps them out.
    A zone the preset does not have is created as a child of its closest enclosing zone, which delegates to it.
    """

    name: str                                # absolute, lower-case, with trailing dot
    records: tuple[str, ...] = ()            # RFC 1035 lines relative to the zone origin
    replace_records: bool = False
    signing: SigningSpec | None = None       # None: keep the preset's (or the default) policy
    servers: tuple[str, ...] = ()            # server host names; () = the preset's choice
    where: Where | None = None
    server: str | None = None                # server software (SERVER_SOFTWARE); None: the scenario's default
    # bring your own: an RFC 1035 zone file (unsigned: we sign it; signed: served as is), the DS its parent gets
    # (presentation rdata; () = from the SEP keys), BIND-format key files that sign it, the signer that does
    file: Path | None = None
    ds: tuple[str, ...] = ()
    keys_dir: Path | None = None
    signer: str | None = None
    delegations: int = 0                     # generated delegations (registry scale), see testbed/build/generated.py


@dataclass(frozen=True)
class FaultSpec:
    """One fault to inject: an id from the fault registry plus its parameters (zone, rrset, ...)."""

    fault: str
    params: dict[str, Any] = field(default_factory=dict)
    where: Where | None = None


@dataclass(frozen=True)
class Expectation:
    """What a resolver should answer. ``None`` fields are not checked.

    ``ede`` is the set of acceptable Extended DNS Error codes: the answer must carry at least one of them;
    an empty tuple means the answer must carry none.
    """

    outcome: Outcome
    rcode: str | None = None                 # "NOERROR", "NXDOMAIN", "SERVFAIL", ...
    ede: tuple[int, ...] | None = None
    answer: tuple[str, ...] | None = None    # rdata texts expected in the answer section for qname/qtype


@dataclass(frozen=True)
class Override:
    """A documented, per-resolver divergence from the RFC expectation. Reported as xfail, never as pass."""

    resolver: str
    expectation: Expectation
    reason: str
    reference: str | None = None
    # the versions it was measured on (testbed/scenario/versions.py): "<9.20", "9.18.49", ">=1.17,<1.26";
    # outside them the resolver is held to the RFC expectation. None: every version.
    versions: str | None = None
    # a regular expression the resolver logs for this query; the check fails when no line matches. Required
    # where the outcome alone cannot tell this fault from any other failure (servfail without EDE).
    log: str | None = None
    where: Where | None = field(default=None, compare=False)    # for messages and edit scripts, not identity

    def covers(self, version: str | None) -> bool:
        if self.versions is None or version is None:
            return True
        from testbed.scenario.versions import version_in_range

        return version_in_range(version, self.versions)


@dataclass(frozen=True)
class QueryFlags:
    """The flags a check's query carries. The default is a validating stub's query (DO=1, AD=0, CD=0); the
    client-flag cases (fault-catalog.md 4.11) change them, e.g. CD=1 on a bogus name or AD=1 with DO=0."""

    do: bool = True
    ad: bool = False
    cd: bool = False

    @property
    def is_default(self) -> bool:
        return self == QueryFlags()

    @property
    def text(self) -> str:
        """dig-like words for the flags that differ from the default, e.g. "+cd" or "+ad -do"."""
        words = [f"{'+' if value else '-'}{name}" for name, value in (("do", self.do), ("ad", self.ad),
                                                                       ("cd", self.cd))
                 if value != getattr(QueryFlags(), name)]
        return " ".join(words)


@dataclass(frozen=True)
class Check:
    qname: str                               # absolute
    qtype: str
    expect: Expectation
    overrides: tuple[Override, ...] = ()
    reference: str | None = None             # RFC section this expectation rests on (defaults to the scenario's)
    where: Where | None = None
    flags: QueryFlags = QueryFlags()         # query flags; the default query is DO=1, AD=0, CD=0
    # Timelines: "ok" says a validation failure this check expects is the right answer (a registrant's own broken
    # DS, say), not an outage of the rollout; the readiness verdict then does not count it as broken.
    readiness: Literal["ok"] | None = None
    # Standards profiles (testbed/resolvers/profiles.py): under a profile named here the check is the one given
    # (its own expectation and overrides, measured under that profile); under any other profile it is this one.
    by_profile: tuple[tuple[str, Check], ...] = ()

    def for_profile(self, profile: str) -> Check:
        return next((check for name, check in self.by_profile if name == profile), self)

    @property
    def query_text(self) -> str:
        # flags show only when they differ, so default checks read (and report) exactly as before
        base = f"{self.qname} {self.qtype}"
        return base if self.flags.is_default else f"{base} {self.flags.text}"

    def override_for(self, resolver: str, version: str | None = None) -> Override | None:
        """The override for ``resolver`` that covers ``version`` (None: the version is not known, any applies)."""
        return next((o for o in self.overrides if o.resolver == resolver and o.covers(version)), None)


@dataclass(frozen=True)
class ActionSignature:
    """What the loader needs to know of one timeline action (testbed/timeline/actions.py registers them).

    ``params`` maps each parameter to its kind, which the loader checks: ``zone`` (a zone name), ``duration``
    ("30d", "2h", "400s" or seconds), ``int``, ``bool``, ``text``, ``choice:a|b|c`` (one of those words) or ``any``.
    ``scalar`` names the parameter a
    one-value form fills (``advance: 30d`` is ``advance: {by: 30d}``).
    """

    params: dict[str, str]
    scalar: str | None = None
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionSpec:
    """One step of a timeline phase: an action id and its parameters, as written."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    where: Where | None = None


@dataclass(frozen=True)
class Phase:
    """One phase of a timeline: actions on the lab's zones, keys and clock, then checks on every resolver.

    Resolvers keep their caches from the phase before, as they would in the field, unless ``flush`` is set.
    A static scenario runs as one phase without a name (``None``) or actions.
    """

    name: str | None
    actions: tuple[ActionSpec, ...] = ()
    checks: tuple[Check, ...] = ()
    flush: bool = False
    summary: str = ""
    where: Where | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    summary: str = ""
    reference: str = ""
    topology: str = "jp"
    zones: tuple[ZoneSpec, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    resolvers: tuple[str, ...] | Literal["all"] = "all"
    checks: tuple[Check, ...] = ()
    phases: tuple[Phase, ...] = ()           # a timeline: either phases or top-level checks, never both
    server: str | None = None                # default server software of every zone (`--auth` sets it too)

    @property
    def is_timeline(self) -> bool:
        return bool(self.phases)


ParamKind = Literal["zone", "server", "name", "rrset", "int", "number", "bool", "choice", "offset", "text", "hex",
                    "types"]


@dataclass(frozen=True)
class ParamType:
    """The type of one fault parameter, which the loader checks (the fault registry declares one per parameter).

    ``zone`` a zone name (normalised), ``server`` a host name, ``name`` a domain name, ``rrset`` ``owner/TYPE``
    (``@`` is the apex; ``all`` too when ``all_word``), ``int`` and ``number`` within ``low``..``high`` (or one of
    ``one_of``) and not in ``exclude``, ``bool``, ``choice`` one of ``choices``, ``offset`` a time offset
    (``-2d``, ``+300s`` or seconds),
    ``text`` a line of text, ``hex`` hexadecimal digits in pairs, ``types`` a list of record types.
    """

    kind: ParamKind
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    exclude: tuple[int, ...] = ()
    one_of: tuple[int, ...] = ()
    all_word: bool = False

    def describe(self) -> str:
        """The type in words, for messages and the fault catalog."""
        if self.kind in ("int", "number"):
            text = "a whole number" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                text += f" from {self.low:g} to {self.high:g}"
            if self.one_of:
                text = "one of " + ", ".join(map(str, self.one_of))
            if self.exclude:
                text += f" other than {', '.join(map(str, self.exclude))}"
            return text
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        words = {"zone": "a zone name", "server": "a server host name", "name": "a domain name",
                 "rrset": "owner/TYPE" + (" or all" if self.all_word else ""), "bool": "true or false",
                 "offset": "a time offset such as -2d, +300s, 30m or a number of seconds", "text": "text",
                 "hex": "hexadecimal digits in pairs", "types": "a list of record types"}
        return words[self.kind]


@dataclass(frozen=True)
class FaultSignature:
    """What the loader checks of one fault: each parameter's type and which are required.

    It is also the collection of its parameter names, so code that only asks 'is this a parameter' works with a
    plain set of names as well (the loader's tests pass those)."""

    params: dict[str, ParamType]
    required: tuple[str, ...] = ()

    def __contains__(self, name: object) -> bool:
        return name in self.params

    def __iter__(self) -> Iterator[str]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)
