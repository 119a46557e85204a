"""Seeded, bounded fuzz of the builtin server on 127.0.0.1: malformed UDP datagrams and hostile TCP streams.

The server runs as ``python -m testbed.auth`` in its own process, so its memory can be read from /proc. Afterwards it
must still answer a valid query on UDP and TCP, have logged no internal error, have closed every fuzzing
connection, and have grown its resident memory by no more than a generous bound. A failure prints the seed; set
TESTBED_FUZZ_SEED to replay it. Cost: about 5 s on the 2-vCPU CI machine (UDP 2.7 s, TCP 1.3 s, start 0.2 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import dns.tsigkeyring
import pytest

from testbed.auth.samples import signed_pair
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("TESTBED_FUZZ_SEED", "20261204"))
UDP_PACKETS = 20_000
TCP_STREAMS = 500
SYNC_EVERY = 100            # a valid query every so many datagrams: paces the sender to the server, checks it lives
RSS_GROWTH_LIMIT_KB = 64 * 1024  # generous: caches may grow a little, a leak per packet or stream would not fit
ADDRESS = "127.0.0.1"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    parent, sub = signed_pair(int(time.time()) - 3600)
    (folder / "example.zone").write_text(parent.to_text())
    (folder / "sub.zone").write_text(sub.to_text())
    port = free_port(ADDRESS)
    config = {"listen": [{"address": ADDRESS, "port": port, "zones": ["example.", "sub.example."]}],
              "zones": {"example.": "example.zone", "sub.example.": "sub.zone"}}
    (folder / "auth.json").write_text(json.dumps(config))
    log_path = folder / "auth.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "testbed.auth", str(folder / "auth.json"),
                                 "--tcp-idle-timeout", "0.5"], stdout=subprocess.PIPE, stderr=log, text=True,
                                env=dict(os.environ, PYTHONPATH=str(REPO)))
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    assert ready and proc.stdout.readline() == "READY\n", log_path.read_text()
    yield proc, port, log_path
    proc.terminate()
    proc.wait(timeout=10)


# -- inputs --------------------------------------------------------------------------------------------------------


def seeds() -> list[bytes]:
    """Valid queries of every shape the parser has a path for: plain, EDNS with options, DNSSEC, TSIG, odd counts."""
    out = []
    for qname in ("www.example.", "big.example.", "nope.example.", "www.sub.example.", "x.wild.example.", "."):
        for qtype in ("A", "TXT", "DNSKEY", "DS", "ANY", "RRSIG", "NSEC"):
            out.append(dns.message.make_query(qname, qtype).to_wire())
            out.append(dns.message.make_query(qname, qtype, want_dnssec=True, payload=4096).to_wire())
    q = dns.message.make_query("www.example.", "A", use_edns=0, options=[dns.edns.GenericOption(10, b"12345678")])
    out.append(q.to_wire())
    q = dns.message.make_query("www.example.", "A")
    q.use_tsig(dns.tsigkeyring.from_text({"k.": "c2VjcmV0c2VjcmV0c2VjcmV0"}), keyname="k.")
    out.append(q.to_wire())
    q = dns.message.make_query("www.example.", "A")
    q.question.append(dns.rrset.RRset(dns.name.from_text("example."), 1, 6))
    out.append(q.to_wire())
    return out


def mutate(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    kind = rng.randrange(12)
    if kind == 0:                                   # flip a few bits
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:                                 # cut short
        del data[rng.randrange(len(data)):]
    elif kind == 2:                                 # junk inserted or appended
        i = rng.randrange(len(data) + 1)
        data[i:i] = rng.randbytes(rng.randint(1, 64))
    elif kind == 3:                                 # header counts that lie
        struct.pack_into("!HHHH", data, 4, *(rng.choice((0, 1, 2, 255, 65535)) for _ in range(4)))
    elif kind == 4:                                 # random bytes only
        return rng.randbytes(rng.randint(0, 600))
    elif kind == 5:                                 # a compression pointer in the question, pointing anywhere
        data[12:14] = struct.pack("!H", 0xC000 | rng.choice((12, 13, 0, len(data) - 1, 0x3FFF)))
    elif kind == 6:                                 # label lengths beyond 63, names beyond 255
        data[12:12] = bytes([rng.choice((64, 127, 191, 255))]) + b"a" * rng.randint(0, 80)
    elif kind == 7:                                 # many labels: a 255-byte name and more
        data[12:] = b"\x01a" * rng.randint(120, 200) + b"\x00\x00\x01\x00\x01"
    elif kind == 8:                                 # a response, or another opcode
        data[2] = (data[2] & 0x87) | (rng.choice((0x80, 0x08, 0x10, 0x20, 0x28, 0x78)))
    elif kind == 9:                                 # OPT with a lying rdlength or twice
        opt = b"\x00\x00\x29\x10\x00\x00\x00\x80\x00" + struct.pack("!H", rng.choice((0, 4, 100, 65535)))
        data += opt * rng.randint(1, 3)
        struct.pack_into("!H", data, 10, rng.randint(1, 3))
    elif kind == 10:                                # huge datagram
        data += rng.randbytes(rng.randint(1000, 9000))
    else:                                           # a few random bytes overwritten
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def valid_answer(sock: socket.socket, port: int, ident: int, others: list[bytes] | None = None) -> dns.message.Message:
    """Ask a valid query until answered (a datagram of ours may be dropped by a full socket buffer: that is UDP)."""
    query = dns.message.make_query("www.example.", "A", want_dnssec=True)
    query.id = ident
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        sock.sendto(query.to_wire(), (ADDRESS, port))
        resend = time.monotonic() + 0.5
        while (left := min(resend, deadline) - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            wire = sock.recv(65535)
            if wire[:2] == struct.pack("!H", ident):
                return dns.message.from_wire(wire)
            if others is not None:
                others.append(wire)
    raise AssertionError(f"no answer to a valid query (seed {SEED})")


def assert_serves(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        r = valid_answer(sock, port, 4242)
    assert r.rcode() == dns.rcode.NOERROR and r.answer, f"seed {SEED}"
    r = dns.query.tcp(dns.message.make_query("www.example.", "A"), ADDRESS, port=port, timeout=10)
    assert r.rcode() == dns.rcode.NOERROR and r.answer, f"seed {SEED}"


def internal_errors(log_path: Path) -> list[str]:
    return [line for line in log_path.read_text().splitlines() if "internal error" in line or "Traceback" in line]


# -- UDP -----------------------------------------------------------------------------------------------------------


def test_udp_fuzz(server):
    proc, port, log_path = server
    rng = random.Random(SEED)
    corpus = seeds()
    assert_serves(port)
    baseline = None
    answers: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for i in range(UDP_PACKETS):
            sock.sendto(mutate(rng, rng.choice(corpus)), (ADDRESS, port))
            if i % SYNC_EVERY == SYNC_EVERY - 1:
                valid_answer(sock, port, 60000 + i // SYNC_EVERY % 5000, answers)
                if baseline is None and i >= 2000:
                    baseline = rss_kb(proc.pid)   # after warm-up: caches and the allocator have settled
    assert proc.poll() is None, f"the server died (seed {SEED})"
    assert_serves(port)
    assert not internal_errors(log_path), f"seed {SEED}: {internal_errors(log_path)[:5]}"
    growth = rss_kb(proc.pid) - baseline
    assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth} kB over {UDP_PACKETS} datagrams (seed {SEED})"
    # Mutants are answered (FORMERR, NOTIMP, REFUSED...), not only survived; answers to responses never come.
    rcodes = {wire[3] & 0xF for wire in answers if len(wire) >= 12}
    assert len(answers) > UDP_PACKETS // 4 and {dns.rcode.FORMERR, dns.rcode.NOERROR} <= rcodes, f"seed {SEED}"
    assert all(wire[2] & 0x80 for wire in answers)  # every datagram that came back is a response


# -- TCP -----------------------------------------------------------------------------------------------------------


async def tcp_stream(rng: random.Random, corpus: list[bytes], port: int) -> None:
    """One hostile TCP client; which kind is drawn from rng."""
    reader, writer = await asyncio.open_connection(ADDRESS, port)
    try:
        kind = rng.randrange(8)
        message = mutate(rng, rng.choice(corpus)) if rng.random() < 0.7 else rng.choice(corpus)
        framed = struct.pack("!H", len(message)) + message
        if kind == 0:                                   # partial write, then close
            writer.write(framed[:rng.randrange(len(framed))])
        elif kind == 1:                                 # slow: a few bytes at a time
            for i in range(0, len(framed), 3):
                writer.write(framed[i:i + 3])
                await writer.drain()
                await asyncio.sleep(0.002)
            await asyncio.wait_for(reader.read(65537), 5)
        elif kind == 2:                                 # half-closed after the query: the answer must still come
            writer.write(framed)
            await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(reader.read(65537), 5)
        elif kind == 3:                                 # a length prefix promising more than ever comes
            writer.write(struct.pack("!H", rng.choice((65535, 1000, len(message) + 1))) + message)
            await writer.drain()
            await asyncio.wait_for(reader.read(65537), 5)   # closed by the server's idle timeout
        elif kind == 4:                                 # zero-length messages and junk framing
            writer.write(b"\x00\x00" * rng.randint(1, 20) + rng.randbytes(rng.randint(0, 200)))
        elif kind == 5:                                 # pipelined, some of them mutants
            writer.write(b"".join(struct.pack("!H", len(m)) + m
                                  for m in (mutate(rng, rng.choice(corpus)) for _ in range(rng.randint(2, 20)))))
            await writer.drain()
        elif kind == 6:                                 # connect and leave without a word
            pass
        else:                                           # random bytes
            writer.write(rng.randbytes(rng.randint(1, 3000)))
            await writer.drain()
    except (ConnectionError, TimeoutError):
        pass  # the server may drop us: that is its right
    finally:
        writer.close()


def test_tcp_fuzz(server):
    proc, port, log_path = server
    rng = random.Random(SEED + 1)
    corpus = seeds()
    assert_serves(port)
    fds_before, rss_before = open_fds(proc.pid), rss_kb(proc.pid)

    async def main() -> None:
        limit = asyncio.Semaphore(50)

        async def one(stream_rng: random.Random) -> None:
            async with limit:
                await tcp_stream(stream_rng, corpus, port)

        await asyncio.gather(*(one(random.Random(rng.random())) for _ in range(TCP_STREAMS)))

    asyncio.run(main())
    assert proc.poll() is None, f"the server died (seed {SEED})"
    assert_serves(port)
    # Every fuzzing connection is closed by the server, at the latest by its 0.5 s idle timeout: wait for that.
    deadline = time.monotonic() + 30
    while open_fds(proc.pid) > fds_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds(proc.pid) <= fds_before, f"connections left open (seed {SEED})"
    assert not internal_errors(log_path), f"seed {SEED}: {internal_errors(log_path)[:5]}"
    growth = rss_kb(proc.pid) - rss_before
    assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth} kB over {TCP_STREAMS} streams (seed {SEED})"
