"""Bring your own signer: ``signer: dnssec-signzone | kzonesign | ldns-signzone`` on a zone signs it with the real
tool, with the zone's keys (the lab's, or the scenario's ``keys:`` folder) and its signing policy (NSEC or NSEC3
with iterations, salt and opt-out; the signature validity from the lab clock). ``ours`` is our own signer.

The tool's output is checked before it is served by an independent verifier (``verify_signed``: every RRSIG
verifies with the zone's DNSKEYs, and every authoritative RRset has one), so a tool that fails quietly is an error
with its own words, not a fault the resolvers are judged on. Tools run on this machine, not in a lab host.

Knot's kzonesign takes no validity window: it signs from about now (its own clock, so not on a moved lab clock)
for the policy's ``rrsig-lifetime``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dns.dnssec
import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from testbed.dnssec import Key, SignOptions
from testbed.dnssec.keys import key_file_stem, key_to_files
from testbed.errors import EnvironmentProblem, ScenarioError

TOOL_TIMEOUT = 600
PACKAGES = {"dnssec-signzone": "bind9-utils", "kzonesign": "knot", "ldns-signzone": "ldnsutils"}


def _stamp(seconds: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))


def _run(argv: list[str], cwd: Path, zone: str) -> str:
    tool = argv[0]
    if shutil.which(tool) is None:
        raise EnvironmentProblem(f"the signer {tool} for {zone} is not installed",
                                 fix=f"apt-get install -y {PACKAGES.get(tool, tool)}")
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ScenarioError(f"{tool} could not sign {zone} (exit {proc.returncode}): " + " / ".join(said),
                            fix=f"see {tool}'s message; the command was: {' '.join(argv)}")
    return proc.stdout + proc.stderr


def _salt(options: SignOptions) -> str:
    return options.nsec3_salt.hex() if options.nsec3_salt else "-"


def _dnssec_signzone(work: Path, zone: str, keys: list[Key], options: SignOptions) -> Path:
    argv = ["dnssec-signzone", "-q", "-O", "full", "-o", zone, "-s", _stamp(options.inception),
            "-e", _stamp(options.expiration), "-f", "signed.zone", "-K", str(work)]
    if any(k.role == "zsk" for k in keys):
        argv.append("-x")          # as ours: the DNSKEY RRset by the KSKs only
    else:
        argv.append("-z")          # CSKs: the SEP keys sign everything
    if options.denial == "nsec3":
        argv += ["-3", _salt(options), "-H", str(options.nsec3_iterations)] + (["-A"] if options.nsec3_opt_out else [])
    argv += ["unsigned.zone", *[key_file_stem(k) for k in keys]]
    _run(argv, work, zone)
    return work / "signed.zone"


def _ldns_signzone(work: Path, zone: str, keys: list[Key], options: SignOptions) -> Path:
    argv = ["ldns-signzone", "-d", "-o", zone, "-i", _stamp(options.inception), "-e", _stamp(options.expiration),
            "-f", "signed.zone"]
    if options.denial == "nsec3":
        argv += ["-n", "-t", str(options.nsec3_iterations)]
        if options.nsec3_salt:
            argv += ["-s", options.nsec3_salt.hex()]
        if options.nsec3_opt_out:
            argv.append("-p")
    argv += ["unsigned.zone", *[key_file_stem(k) for k in keys]]
    _run(argv, work, zone)
    return work / "signed.zone"


def _kzonesign(work: Path, zone: str, keys: list[Key], options: SignOptions) -> Path:
    lifetime = max(options.expiration - int(time.time()), 3 * 86400)
    nsec3 = options.denial == "nsec3"
    conf = work / "knot.conf"
    conf.write_text(f"""database:
    storage: "{work}/db"
    kasp-db: "{work}/kasp"
policy:
  - id: byo
    manual: on
    single-type-signing: {'on' if all(k.role == 'csk' for k in keys) else 'off'}
    nsec3: {'on' if nsec3 else 'off'}
    nsec3-iterations: {options.nsec3_iterations}
    nsec3-salt-length: {len(options.nsec3_salt)}
    nsec3-opt-out: {'on' if options.nsec3_opt_out else 'off'}
    rrsig-lifetime: {lifetime}
    rrsig-refresh: {max(lifetime // 10, 3600)}
    dnskey-ttl: 3600
zone:
  - domain: "{zone}"
    storage: "{work}"
    file: "unsigned.zone"
    dnssec-signing: on
    dnssec-policy: byo
""")
    for key in keys:
        _run(["keymgr", "-c", str(conf), zone, "import-bind", str(work / f"{key_file_stem(key)}.private")], work, zone)
        if key.role == "csk":       # import-bind makes a flags-257 key a KSK only; a CSK signs the zone too
            _run(["keymgr", "-c", str(conf), zone, "set", str(key.key_tag), "zsk=yes"], work, zone)
    out = work / "out"
    out.mkdir()
    _run(["kzonesign", "-c", str(conf), "-o", str(out), zone], work, zone)
    produced = sorted(out.iterdir())
    if not produced:
        raise ScenarioError(f"kzonesign wrote no signed zone for {zone}", fix="run it by hand with the same config")
    return produced[0]


TOOLS: dict[str, Callable[[Path, str, list[Key], SignOptions], Path]] = {
    "dnssec-signzone": _dnssec_signzone, "kzonesign": _kzonesign, "ldns-signzone": _ldns_signzone}


def _with_dnskeys(unsigned: dns.zone.Zone, keys: list[Key], options: SignOptions) -> dns.zone.Zone:
    """A copy of ``unsigned`` that publishes the keys' DNSKEYs, as our signer does (the tools add them in
    different ways, or not at all)."""
    import dns.rdataset

    zone = dns.zone.from_text(unsigned.to_text(relativize=False), origin=unsigned.origin, relativize=False,
                              check_origin=False)
    assert zone.origin is not None
    soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
    ttl = options.dnskey_ttl or (soa.ttl if soa is not None else 3600)
    node = zone.find_node(zone.origin, create=True)
    rdataset = node.find_rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, create=True)
    rdataset.update_ttl(ttl)
    for key in keys:
        rdataset.add(key.dnskey)
    return zone


def sign_with_tool(tool: str, unsigned: dns.zone.Zone, keys: list[Key], options: SignOptions) -> dns.zone.Zone:
    """``unsigned`` signed by ``tool`` with ``keys``, checked by ``verify_signed`` before it is returned."""
    assert unsigned.origin is not None
    zone = unsigned.origin.to_text()
    if not keys:
        raise ScenarioError(f"{tool} has no keys to sign {zone} with", fix="give the zone keys, or sign: false")
    with tempfile.TemporaryDirectory(prefix="testbed-signer-") as tmp:
        work = Path(tmp)
        _with_dnskeys(unsigned, keys, options).to_file(str(work / "unsigned.zone"), relativize=False,
                                                       want_origin=True)
        for key in keys:
            # published and active an hour before the signatures start: a tool that reads timing metadata
            # (keymgr import-bind, smart signing) sees a key in use, not a key of 1970 or of the future
            key_to_files(key, work, timestamp=options.inception - 3600)
        path = TOOLS[tool](work, zone, keys, options)
        try:
            signed = dns.zone.from_file(str(path), origin=zone, relativize=False)
        except dns.exception.DNSException as exc:
            raise ScenarioError(f"{tool}'s output for {zone} does not parse: {exc}") from exc
    problem = verify_signed(signed)
    if problem:
        raise ScenarioError(f"{tool}'s output for {zone} does not verify: {problem}",
                            fix=f"check the keys and parameters given to {tool}")
    return signed


def verify_signed(zone: dns.zone.Zone) -> str | None:
    """The first problem of a signed zone, or None: an RRSIG that does not verify with the apex DNSKEYs (at its own
    inception time), or an authoritative RRset without any RRSIG."""
    origin = zone.origin
    assert origin is not None
    dnskeys = zone.get_rdataset(origin, dns.rdatatype.DNSKEY)
    if dnskeys is None:
        return "no DNSKEY RRset at the apex"
    keys = {origin: dnskeys}
    cuts = [n for n, node in zone.nodes.items()
            if n != origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS) is not None]
    for name, node in zone.nodes.items():
        below = any(name.is_subdomain(c) and name != c for c in cuts)
        for rdataset in node.rdatasets:
            kind = rdataset.rdtype
            if kind == dns.rdatatype.RRSIG or below or (name in cuts and kind not in (dns.rdatatype.DS,
                                                                                         dns.rdatatype.NSEC)):
                continue
            what = f"{name}/{dns.rdatatype.to_text(kind)}"
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covers=kind)
            if sigs is None:
                return f"{what} has no RRSIG"
            rrset = dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))
            for sig in sigs:
                try:
                    dns.dnssec.validate_rrsig(rrset, sig, keys, origin, now=sig.inception)  # type: ignore[arg-type]
                except dns.dnssec.ValidationFailure as exc:
                    return f"the RRSIG (key tag {sig.key_tag}) over {what}: {exc}"
    return None
