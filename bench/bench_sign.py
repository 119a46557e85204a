#!/usr/bin/env python3
"""Sign a synthetic jp.-like zone with our signer, dnssec-signzone and ldns-signzone in the same run; print ratios.

    .venv/bin/python bench/bench_sign.py [N] [--repeat R] [--verify] [--workdir DIR] [--only nsec|nsec3]

N is the number of delegations (default 10000). The zone follows reference/perf-baselines.md section 1: apex SOA/NS
with in-zone glue under a ``dns.jp.`` delegation, N delegations with random 5-15 character labels, 2 NS each to
``ns1/ns2.<provider>.jp.`` (the first max(10, N/1000) delegations are providers with glue A records), and about 10 %
of the delegations with one DS. It is deterministic (seed = N).

Every signer gets the same keys (ECDSA P-256 KSK + ZSK, written with ``key_to_files``), the same validity period,
and runs as its own process, timed by wall clock from start to exit: parse, sort, hash, sign, write. Our signer runs
once with 1 process and once with every CPU. Modes: NSEC, and NSEC3 with opt-out, 0 iterations, no salt (ldns 1.8
``-p`` only sets the opt-out flag and still makes an NSEC3 for every delegation, so its NSEC3 row does more work).
BIND runs with ``-P`` (no post-sign verification) and its default thread count. RRSIGs are counted afterwards with
``ldns-read-zone`` (not timed). ``--verify`` runs dnssec-verify on our output (not timed).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORIGIN = "jp."
VALIDITY = 30 * 86400


def generate_zone(count: int, path: Path) -> int:
    """Write the synthetic zone; returns the number of DS records."""
    rng = random.Random(count)
    alphabet = string.ascii_lowercase + string.digits
    labels: list[str] = []
    seen = {"dns"}
    while len(labels) < count:
        label = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 15)))
        if label not in seen:
            seen.add(label)
            labels.append(label)
    providers = labels[:max(10, count // 1000)]
    out = ["$ORIGIN jp.", "$TTL 86400",
           "@ 86400 IN SOA a.dns.jp. hostmaster.jprs.jp. 2024010100 3600 900 1814400 900",
           "@ 86400 IN NS a.dns.jp.", "@ 86400 IN NS b.dns.jp.",
           "dns 86400 IN NS a.dns.jp.", "dns 86400 IN NS b.dns.jp.",
           "a.dns 86400 IN A 203.119.1.1", "b.dns 86400 IN A 202.12.30.131",
           "a.dns 86400 IN AAAA 2001:dc4::1", "b.dns 86400 IN AAAA 2001:dc2::1"]
    ds_count = 0
    for index, label in enumerate(labels):
        if index < len(providers):
            out += [f"{label} 86400 IN NS ns1.{label}.jp.", f"{label} 86400 IN NS ns2.{label}.jp.",
                    f"ns1.{label} 86400 IN A 192.0.{index % 250}.1", f"ns2.{label} 86400 IN A 198.51.{index % 250}.2"]
        else:
            provider = providers[rng.randrange(len(providers))]
            out += [f"{label} 86400 IN NS ns1.{provider}.jp.", f"{label} 86400 IN NS ns2.{provider}.jp."]
        if rng.random() < 0.1:
            ds_count += 1
            out.append(f"{label} 86400 IN DS {rng.randrange(65536)} 13 2 {rng.randbytes(32).hex().upper()}")
    path.write_text("\n".join(out) + "\n")
    return ds_count


def count_rrsigs(path: Path) -> int | None:
    if not shutil.which("ldns-read-zone"):
        return None
    result = subprocess.run(["ldns-read-zone", "-E", "RRSIG", str(path)], capture_output=True, text=True,
                            check=False)
    return sum(1 for line in result.stdout.splitlines() if line.split(None, 4)[3:4] == ["RRSIG"])


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds, result.stdout


def child_sign(args: list[str]) -> None:
    """``--child ZONE OUT DENIAL KEYS.json WORKERS``: our signer as its own process (import + keys + sign + write)."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from testbed.dnssec import SignOptions, sign_zone_file
    from testbed.dnssec.keys import key_from_private

    zone, out, denial, keyfile, workers = args
    spec = json.loads(Path(keyfile).read_text())
    keys = [key_from_private(ORIGIN, item["algorithm"], item["role"],
                             load_der_private_key(bytes.fromhex(item["pkcs8"]), None))  # type: ignore[arg-type]
            for item in spec["keys"]]
    options = SignOptions(inception=spec["inception"], expiration=spec["expiration"], denial=denial,
                          nsec3_opt_out=denial == "nsec3")
    stats = sign_zone_file(Path(zone), ORIGIN, keys, options, Path(out), workers=int(workers))
    print(json.dumps({"records": stats.records, "signatures": stats.signatures, "seconds": stats.seconds,
                      "workers": stats.workers}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_sign(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=10000, help="number of delegations (10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the best wall time is shown")
    parser.add_argument("--verify", action="store_true", help="run dnssec-verify on our output (not timed)")
    parser.add_argument("--only", choices=["nsec", "nsec3"], help="one denial mode only")
    parser.add_argument("--workdir", type=Path, help="keep zone, keys and outputs here (default: a temp dir)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cryptography.hazmat.primitives import serialization

    from testbed.dnssec import generate_key, key_to_files
    from testbed.dnssec.pool import available_cpus

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_sign."))
    workdir.mkdir(parents=True, exist_ok=True)
    zone = workdir / f"jp.{args.count}.zone"
    ds_count = generate_zone(args.count, zone)
    keys = [generate_key(ORIGIN, 13, "ksk"), generate_key(ORIGIN, 13, "zsk")]
    keydir = workdir / "keys"
    if keydir.exists():
        shutil.rmtree(keydir)
    stems = [str(key_to_files(key, keydir)[0].with_suffix("")) for key in keys]
    now = int(time.time())
    inception, expiration = now - 3600, now + VALIDITY
    keyfile = workdir / "keys.json"
    keyfile.write_text(json.dumps({"inception": inception, "expiration": expiration, "keys": [
        {"algorithm": key.algorithm, "role": key.role,
         "pkcs8": key.private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).hex()} for key in keys]}))
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(inception)), time.strftime("%Y%m%d%H%M%S",
                                                                                 time.gmtime(expiration))
    cpus = available_cpus()
    print(f"zone: {zone} ({args.count} delegations, {ds_count} DS, {zone.stat().st_size / 1e6:.1f} MB); "
          f"{cpus} CPUs; keys: ECDSAP256SHA256 KSK {keys[0].key_tag} + ZSK {keys[1].key_tag}")

    modes = [args.only] if args.only else ["nsec", "nsec3"]
    rows: list[tuple[str, str, float, int | None, Path]] = []
    for denial in modes:
        runs: list[tuple[str, list[str], Path]] = []
        for workers in sorted({1, cpus}):
            out = workdir / f"ours.{denial}.w{workers}.zone"
            runs.append((f"ours (workers={workers}", [sys.executable, __file__, "--child", str(zone), str(out), denial,
                                                   str(keyfile), str(workers)], out))
        bind_out = workdir / f"bind.{denial}.zone"
        bind = ["dnssec-signzone", "-P", "-S", "-q", "-o", ORIGIN, "-K", str(keydir), "-d", str(workdir),
                "-s", stamp[0], "-e", stamp[1], "-f", str(bind_out)]
        if denial == "nsec3":
            bind += ["-3", "-", "-H", "0", "-A"]
        if shutil.which("dnssec-signzone"):
            runs.append(("dnssec-signzone (default threads)", [*bind, str(zone)], bind_out))
        ldns_out = workdir / f"ldns.{denial}.zone"
        ldns = ["ldns-signzone", "-i", stamp[0], "-e", stamp[1], "-f", str(ldns_out)]
        if denial == "nsec3":
            ldns += ["-n", "-p", "-t", "0"]
        if shutil.which("ldns-signzone"):
            label = "ldns-signzone" + (" (-p: no real opt-out)" if denial == "nsec3" else "")
            runs.append((label, [*ldns, str(zone), *stems], ldns_out))
        for label, command, out in runs:
            results = [timed(command) for _ in range(args.repeat)]
            if label.startswith("ours"):
                used = json.loads(results[-1][1].strip().splitlines()[-1])["workers"]
                label += f", {used} used)"
            rows.append((label, denial, min(wall for wall, _ in results), count_rrsigs(out), out))

    print()
    header = f"{'signer':<42} {'denial':<14} {'wall s':>8} {'RRSIGs':>9} {'sigs/s':>9} {'ours(best)/this':>16}"
    print(header)
    print("-" * len(header))
    for denial in modes:
        mode_rows = [row for row in rows if row[1] == denial]
        ours_best = min(row[2] for row in mode_rows if row[0].startswith("ours"))
        for label, _, wall, sigs, _ in mode_rows:
            rate = f"{sigs / wall:,.0f}" if sigs else "?"
            shown = "NSEC" if denial == "nsec" else "NSEC3 opt-out"
            print(f"{label:<42} {shown:<14} {wall:>8.2f} {sigs if sigs is not None else '?':>9} {rate:>9} "
                  f"{ours_best / wall:>16.2f}")
    print("\nours(best)/this < 1: our best run was faster than that signer. 'used' is how many processes signed"
          " (zones under ~20k signatures are signed in one).")

    if args.verify and shutil.which("dnssec-verify"):
        for label, _, _, _, out in rows:
            if label.startswith("ours"):
                result = subprocess.run(["dnssec-verify", "-q", "-o", ORIGIN, str(out)], capture_output=True,
                                        text=True, check=False)
                verdict = "ok" if result.returncode == 0 else "FAILED: " + result.stderr.strip()[-300:]
                print(f"dnssec-verify {out.name}: {verdict}")
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
