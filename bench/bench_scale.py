#!/usr/bin/env python3
"""Registry scale: a jp.-like zone with N delegations, signed by ours, kzonesign and dnssec-signzone in the same run,
then loaded by the builtin server and by NSD until each answers.

    .venv/bin/python bench/bench_scale.py [N] [--workdir DIR] [--skip-sign-reference] [--skip-nsd]

N (default 100000) delegations, generated exactly as bench/bench_sign.py does (seed = N, about 10 % with DS). Every
signer signs with NSEC3 opt-out, 0 extra iterations, no salt, the same ECDSA P-256 KSK + ZSK (BIND key files; Knot
imports them with ``keymgr import-bind``), 30 days of validity. Each runs as its own process under /usr/bin/time, so
wall time and peak RSS cover the whole process (start, parse, sign, write). Ours runs with 1 process and with every
CPU; kzonesign with 1 and 2 signing threads; dnssec-signzone with its default threads and ``-P`` (no verification).

Then our signed output is served from 127.0.0.1 on a free port: by ``python -m testbed.auth`` and by ``nsd -d``
(``database: ""``, one server process). Each is timed from its start until it answers the zone's SOA with the
signed serial, and a referral for one delegation is checked. Peak RSS is the server's VmHWM at that point (for NSD,
the largest of its processes). Every process started here is stopped by its own PID.

Targets (issue 11): our signer at most kzonesign's wall time and 1 GB; the builtin server loads the signed 1M zone in
under 120 s and 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_sign import ORIGIN, VALIDITY, generate_zone  # noqa: E402

ADDRESS = "127.0.0.1"
TIME = "/usr/bin/time"


def timed(label: str, command: list[str], *, cwd: Path | None = None) -> dict:
    """Run command under /usr/bin/time: wall seconds and peak RSS (MB) of the whole process."""
    stats = Path(tempfile.mkstemp(prefix="bench_scale.")[1])
    started = time.perf_counter()
    result = subprocess.run([TIME, "-o", str(stats), "-f", "%e %M", *command], capture_output=True, text=True,
                            cwd=cwd, check=False)
    wall = time.perf_counter() - started
    fields = stats.read_text().split()
    stats.unlink()
    if result.returncode != 0:
        raise SystemExit(f"{label}: {' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return {"label": label, "wall": wall, "rss_mb": int(fields[-1]) / 1024, "stdout": result.stdout}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((ADDRESS, 0))
        port = udp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((ADDRESS, port))
        return port


def vmhwm_mb(pids: list[int]) -> float:
    best = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024


def descendants(pid: int) -> list[int]:
    out = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def serve_until_answers(label: str, command: list[str], port: int, serial: int, delegation: str,
                        log: Path, limit: float = 900) -> dict:
    """Start a server, query SOA until it answers with ``serial``; check a referral; stop it by its PID."""
    import dns.message
    import dns.query
    import dns.rdatatype

    with open(log, "w") as handle:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{label} exited ({proc.returncode}); see {log}")
            if time.perf_counter() - started > limit:
                raise SystemExit(f"{label} did not answer within {limit} s; see {log}")
            try:
                reply = dns.query.udp(dns.message.make_query(ORIGIN, "SOA"), ADDRESS, port=port, timeout=0.2)
                if reply.answer and reply.answer[0][0].serial == serial:
                    break
            except (dns.exception.Timeout, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        ready = time.perf_counter() - started
        rss = vmhwm_mb(descendants(proc.pid))
        referral = dns.query.udp(dns.message.make_query(f"www.{delegation}", "A", want_dnssec=True), ADDRESS,
                                 port=port, timeout=5)
        ns = [rr for rr in referral.authority if rr.rdtype == dns.rdatatype.NS]
        proofs = sorted({dns.rdatatype.to_text(rr.rdtype) for rr in referral.authority} - {"NS"})
        if not ns:
            raise SystemExit(f"{label}: no referral for www.{delegation}: {referral}")
        return {"label": label, "wall": ready, "rss_mb": rss, "referral": "NS + " + " ".join(proofs)}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def knot_config(storage: Path, zone: Path, threads: int) -> Path:
    conf = storage / "knot.conf"
    conf.write_text(f"""database:
    storage: "{storage}"
    kasp-db: "{storage / 'kasp'}"
policy:
  - id: bench
    algorithm: ecdsap256sha256
    manual: on
    nsec3: on
    nsec3-iterations: 0
    nsec3-opt-out: on
    nsec3-salt-length: 0
    signing-threads: {threads}
    rrsig-lifetime: {VALIDITY // 86400}d
    rrsig-refresh: 7d
zone:
  - domain: {ORIGIN}
    file: "{zone}"
    dnssec-signing: on
    dnssec-policy: bench
    journal-content: none
""")
    return conf


def nsd_config(folder: Path, zone: Path, port: int) -> Path:
    conf = folder / "nsd.conf"
    conf.write_text(f"""server:
    ip-address: {ADDRESS}@{port}
    port: {port}
    database: ""
    zonelistfile: "{folder / 'zone.list'}"
    xfrdfile: "{folder / 'xfrd.state'}"
    pidfile: "{folder / 'nsd.pid'}"
    zonesdir: "{folder}"
    username: ""
    chroot: ""
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: {ORIGIN}
    zonefile: "{zone}"
""")
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=100000, help="number of delegations (100000)")
    parser.add_argument("--workdir", type=Path, help="keep zone, keys and outputs here (default: a temp dir)")
    parser.add_argument("--skip-sign-reference", action="store_true", help="no kzonesign / dnssec-signzone rows")
    parser.add_argument("--skip-nsd", action="store_true", help="no NSD row")
    args = parser.parse_args()

    from cryptography.hazmat.primitives import serialization

    from testbed.dnssec import generate_key, key_to_files
    from testbed.dnssec.pool import available_cpus

    if not Path(TIME).exists():
        raise SystemExit("needs /usr/bin/time (Debian package 'time')")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_scale."))
    workdir.mkdir(parents=True, exist_ok=True)
    zone = workdir / f"jp.{args.count}.zone"
    started = time.perf_counter()
    ds_count = generate_zone(args.count, zone)
    generated = time.perf_counter() - started
    keys = [generate_key(ORIGIN, 13, "ksk"), generate_key(ORIGIN, 13, "zsk")]
    keydir = workdir / "keys"
    shutil.rmtree(keydir, ignore_errors=True)
    stems = [key_to_files(key, keydir)[0].with_suffix("") for key in keys]
    now = int(time.time())
    inception, expiration = now - 3600, now + VALIDITY
    keyfile = workdir / "keys.json"
    keyfile.write_text(json.dumps({"inception": inception, "expiration": expiration, "keys": [
        {"algorithm": key.algorithm, "role": key.role,
         "pkcs8": key.private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).hex()} for key in keys]}))
    cpus = available_cpus()
    print(f"zone: {zone} ({args.count} delegations, {ds_count} DS, {zone.stat().st_size / 1e6:.1f} MB, generated in "
          f"{generated:.1f} s); {cpus} CPUs; NSEC3 opt-out, 0 iterations, no salt", flush=True)

    rows: list[dict] = []
    ours_out = workdir / "ours.nsec3.zone"
    for workers in sorted({1, cpus}):
        out = workdir / f"ours.nsec3.w{workers}.zone"
        row = timed(f"ours ({workers} process{'es' if workers > 1 else ''})",
                    [sys.executable, str(Path(__file__).with_name("bench_sign.py")), "--child", str(zone), str(out),
                     "nsec3", str(keyfile), str(workers)])
        row["signatures"] = json.loads(row["stdout"].strip().splitlines()[-1])["signatures"]
        rows.append(row)
        print(f"  {row['label']}: {row['wall']:.1f} s, {row['rss_mb']:.0f} MB", flush=True)
        shutil.copyfile(out, ours_out)
    if not args.skip_sign_reference and shutil.which("kzonesign") and shutil.which("keymgr"):
        for threads in (1, 2):
            storage = workdir / f"knot.t{threads}"
            shutil.rmtree(storage, ignore_errors=True)
            (storage / "out").mkdir(parents=True)
            conf = knot_config(storage, zone, threads)
            for stem in stems:
                subprocess.run(["keymgr", "-c", str(conf), ORIGIN, "import-bind", str(stem)], check=True,
                               capture_output=True)
            row = timed(f"kzonesign ({threads} thread{'s' if threads > 1 else ''})",
                        ["kzonesign", "-c", str(conf), "-o", str(storage / "out"), ORIGIN])
            rows.append(row)
            print(f"  {row['label']}: {row['wall']:.1f} s, {row['rss_mb']:.0f} MB", flush=True)
    if not args.skip_sign_reference and shutil.which("dnssec-signzone"):
        stamp = [time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) for t in (inception, expiration)]
        row = timed("dnssec-signzone (default threads)",
                    ["dnssec-signzone", "-P", "-S", "-q", "-o", ORIGIN, "-K", str(keydir), "-d", str(workdir),
                     "-s", stamp[0], "-e", stamp[1], "-3", "-", "-H", "0", "-A", "-f", str(workdir / "bind.zone"),
                     str(zone)])
        rows.append(row)
        print(f"  {row['label']}: {row['wall']:.1f} s, {row['rss_mb']:.0f} MB", flush=True)

    ours_best = min(row["wall"] for row in rows if row["label"].startswith("ours"))
    print(f"\nsigning {args.count} delegations (NSEC3 opt-out)")
    print(f"{'signer':<36} {'wall s':>8} {'peak MB':>8} {'ours(best)/this':>16}")
    for row in rows:
        print(f"{row['label']:<36} {row['wall']:>8.1f} {row['rss_mb']:>8.0f} {ours_best / row['wall']:>16.2f}")

    serial = 2024010100
    delegation = next(line.split()[0] for line in zone.read_text().splitlines()[11:] if " NS " in line) + "." + ORIGIN
    serving: list[dict] = []
    folder = workdir / "serve"
    folder.mkdir(exist_ok=True)
    port = free_port()
    config = folder / "auth.json"
    config.write_text(json.dumps({"listen": [{"address": ADDRESS, "port": port, "zones": [ORIGIN]}],
                                  "zones": {ORIGIN: str(ours_out)}}))
    env_python = [sys.executable, "-m", "testbed.auth", str(config)]
    os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    serving.append(serve_until_answers("builtin server", env_python, port, serial, delegation, folder / "auth.log"))
    print(f"  builtin server: {serving[-1]['wall']:.1f} s, {serving[-1]['rss_mb']:.0f} MB", flush=True)
    if not args.skip_nsd and shutil.which("nsd"):
        port = free_port()
        conf = nsd_config(folder, ours_out, port)
        serving.append(serve_until_answers("NSD (server-count 1)", ["nsd", "-d", "-c", str(conf)], port, serial,
                                           delegation, folder / "nsd.log"))
        print(f"  NSD: {serving[-1]['wall']:.1f} s, {serving[-1]['rss_mb']:.0f} MB", flush=True)
    print(f"\nserving our signed zone ({ours_out.stat().st_size / 1e6:.0f} MB): start until the SOA answers")
    print(f"{'server':<36} {'wall s':>8} {'peak MB':>8} {'this/NSD':>9}  referral for www.{delegation}")
    nsd = next((row for row in serving if row["label"].startswith("NSD")), None)
    for row in serving:
        ratio = f"{row['wall'] / nsd['wall']:.2f}" if nsd else "-"
        print(f"{row['label']:<36} {row['wall']:>8.1f} {row['rss_mb']:>8.0f} {ratio:>9}  {row['referral']}")
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
