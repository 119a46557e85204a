"""The builtin server on real sockets: in-process AuthServer and `python -m testbed.auth`, 127.0.0.x only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import dns.asyncquery
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from testbed.auth import AuthConfig, AuthServer, Behaviour, Endpoint, ZoneSet
from testbed.auth.config import load_config
from testbed.auth.samples import signed_pair
from testbed.errors import EnvironmentProblem, TestbedError
from tests.conftest import free_port

T = dns.rdatatype
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pair():
    return signed_pair(int(time.time()) - 3600)


def q(qname, qtype, **kw):
    kw.setdefault("want_dnssec", True)
    return dns.message.make_query(qname, qtype, **kw)


def config(pair, behaviour=None, parent_addr="127.0.0.1", child_addr="127.0.0.2"):
    return AuthConfig((Endpoint(parent_addr, 0, ZoneSet({"example.": pair[0]}), behaviour or Behaviour()),
                       Endpoint(child_addr, 0, ZoneSet({"sub.example.": pair[1]}))))


def test_each_address_answers_only_for_its_own_zones(pair):
    async def main():
        async with AuthServer(config(pair)) as server:
            (a1, p1), (a2, p2) = server.addresses
            r = await dns.asyncquery.udp(q("www.sub.example.", "A"), a1, port=p1, timeout=2)
            assert not r.flags & dns.flags.AA and r.authority  # the parent refers
            r = await dns.asyncquery.udp(q("www.sub.example.", "A"), a2, port=p2, timeout=2)
            assert r.flags & dns.flags.AA and r.answer  # the child answers
            r = await dns.asyncquery.udp(q("www.example.", "A"), a2, port=p2, timeout=2)
            assert r.rcode() == dns.rcode.REFUSED
            r = await dns.asyncquery.tcp(q("www.example.", "A"), a1, port=p1, timeout=2)
            assert r.answer
    asyncio.run(main())


def test_tcp_pipelining_and_tc_fallback(pair):
    async def main():
        async with AuthServer(config(pair)) as server:
            address, port = server.addresses[0]
            big = q("big.example.", "TXT")
            r = await dns.asyncquery.udp(big, address, port=port, timeout=2)
            assert r.flags & dns.flags.TC and not r.answer
            reader, writer = await asyncio.open_connection(address, port)
            queries = [big, q("www.example.", "A"), q("nope.example.", "A")]
            writer.write(b"".join(struct.pack("!H", len(w)) + w for w in (m.to_wire() for m in queries)))
            await writer.drain()
            for sent in queries:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                got = dns.message.from_wire(await reader.readexactly(size))
                assert got.id == sent.id and not got.flags & dns.flags.TC
            writer.close()
    asyncio.run(main())


def test_tcp_idle_timeout_closes_the_connection(pair):
    async def main():
        async with AuthServer(config(pair), tcp_idle_timeout=0.2) as server:
            reader, writer = await asyncio.open_connection(*server.addresses[0])
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
    asyncio.run(main())


def test_load_swaps_data_and_behaviour_while_running(pair):
    async def main():
        async with AuthServer(config(pair)) as server:
            address, port = server.addresses[0]
            r = await dns.asyncquery.udp(q("www.example.", "A"), address, port=port, timeout=2)
            assert any(rr.rdtype == T.RRSIG for rr in r.answer)
            server.load(config(pair, Behaviour(strip_rrsigs=True)))
            r = await dns.asyncquery.udp(q("www.example.", "A"), address, port=port, timeout=2)
            assert r.answer and not any(rr.rdtype == T.RRSIG for rr in r.answer)
            with pytest.raises(TestbedError):
                server.load(config(pair, child_addr="127.0.0.3"))
            r = await dns.asyncquery.udp(q("www.example.", "A"), address, port=port, timeout=2)
            assert r.answer and not any(rr.rdtype == T.RRSIG for rr in r.answer)  # old data kept
            server.load(config(pair, Behaviour(tcp_refuse=True)))
            reader, writer = await asyncio.open_connection(address, port)
            wire = q("www.example.", "A").to_wire()
            writer.write(struct.pack("!H", len(wire)) + wire)
            # Closed with no answer; a reset is closed too (the kernel resets when our query was still unread).
            with contextlib.suppress(ConnectionResetError):
                assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
    asyncio.run(main())


def test_address_in_use_is_an_environment_problem(pair):
    async def main():
        async with AuthServer(config(pair)) as first:
            address, port = first.addresses[0]
            busy = AuthConfig((Endpoint(address, port, ZoneSet()),))
            with pytest.raises(EnvironmentProblem, match=f"{address}:{port}"):
                await AuthServer(busy).start()
    asyncio.run(main())


# -- python -m testbed.auth --------------------------------------------------------------------------------------


def write_setup(tmp_path: Path, pair, port: int) -> Path:
    (tmp_path / "example.zone").write_text(pair[0].to_text())
    (tmp_path / "sub.zone").write_text(pair[1].to_text())
    cfg = {"listen": [{"address": "127.0.0.1", "port": port, "zones": ["example."]},
                      {"address": "127.0.0.2", "port": port, "zones": ["sub.example."],
                       "behaviour": {"drop_qtypes": ["MX"]}}],
           "zones": {"example.": "example.zone", "sub.example.": "sub.zone"}}
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(cfg))
    return path


def start(path: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "testbed.auth", str(path), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_ready(proc: subprocess.Popen[str], timeout: float = 10) -> None:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no READY line"
    assert proc.stdout.readline() == "READY\n", proc.stderr.read()


class LogWatcher:
    """Waits for lines on a process's stderr: a log watcher, not a sleep.

    It reads the pipe's file descriptor itself. Selecting on the pipe and then calling the text wrapper's readline()
    loses lines under load: readline() pulls every line already in the pipe into its buffer and returns the first,
    and select() then waits for the pipe while the line we want sits in that buffer ("'reload failed' not logged").
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.fd = proc.stderr.fileno()
        self.pending = b""
        self.lines: list[str] = []     # every complete line read so far
        self.checked = 0               # lines[:checked] were already looked at by an earlier wait

    def wait(self, needle: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            while self.checked < len(self.lines):
                self.checked += 1
                if needle in self.lines[self.checked - 1]:
                    return
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready and left <= 0:
                raise AssertionError(f"{needle!r} not logged; got {self.text()}")
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise AssertionError(f"{needle!r} not logged before the server closed stderr; got {self.text()}")
                *complete, self.pending = (self.pending + chunk).split(b"\n")
                self.lines += [line.decode(errors="replace") + "\n" for line in complete]

    def text(self) -> str:
        return "".join(self.lines) + self.pending.decode(errors="replace")


def test_cli_serves_reloads_on_sighup_and_stops_on_sigterm(tmp_path, pair):
    port = free_port("127.0.0.1")
    path = write_setup(tmp_path, pair, port)
    proc = start(path, "--query-log")
    log = LogWatcher(proc)
    try:
        wait_ready(proc)
        r = dns.query.udp(q("www.example.", "A"), "127.0.0.1", port=port, timeout=2)
        assert r.answer[0][0].address == "192.0.2.80"
        r = dns.query.tcp(q("www.sub.example.", "A"), "127.0.0.2", port=port, timeout=2)
        assert r.flags & dns.flags.AA and r.answer
        with pytest.raises(dns.exception.Timeout):  # drop_qtypes on the second address only
            dns.query.udp(q("sub.example.", "MX"), "127.0.0.2", port=port, timeout=0.3)

        zone_file = tmp_path / "example.zone"
        zone_file.write_text(zone_file.read_text().replace("192.0.2.80", "192.0.2.99"))
        proc.send_signal(signal.SIGHUP)
        log.wait("reloaded")
        r = dns.query.udp(q("www.example.", "A"), "127.0.0.1", port=port, timeout=2)
        assert r.answer[0][0].address == "192.0.2.99"

        zone_file.write_text("example. 300 IN SOA broken (\n")  # a failed reload keeps the old data
        proc.send_signal(signal.SIGHUP)
        log.wait("reload failed")
        r = dns.query.udp(q("www.example.", "A"), "127.0.0.1", port=port, timeout=2)
        assert r.answer[0][0].address == "192.0.2.99"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    err = log.text() + err
    assert proc.returncode == 0, err
    assert out == ""  # READY was read above; nothing else goes to stdout
    assert "reloaded" in err and "reload failed" in err and "example.zone:" in err
    assert "127.0.0.1 www.example. A NOERROR udp" in err


def test_cli_zone_syntax_error_names_file_and_line(tmp_path, pair):
    path = write_setup(tmp_path, pair, free_port("127.0.0.1"))
    (tmp_path / "sub.zone").write_text("sub.example. 300 IN SOA ns hostmaster 1 2 3 4 5\nsub.example. 300 IN A nope\n")
    proc = start(path)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and out == ""
    assert f"{tmp_path / 'sub.zone'}:2:" in err


def test_cli_port_in_use_exits_2(tmp_path, pair):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        proc = start(write_setup(tmp_path, pair, port))
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and out == ""
    assert f"127.0.0.1:{port}" in err


def test_config_errors_name_the_file(tmp_path):
    path = tmp_path / "auth.json"
    for text, needle in [("{", "invalid JSON"), ('{"listen": []}', "non-empty"),
                         ('{"listen": [{"address": "x", "port": 53}]}', "not an IP"),
                         ('{"listen": [{"address": "127.0.0.1", "zones": ["a."]}]}', "not in 'zones'"),
                         ('{"listen": [{"address": "127.0.0.1"}], "zones": {"a.": "missing.zone"}}', "cannot read"),
                         ('{"listen": [{"address": "127.0.0.1", "behaviour": {"x": 1}}]}', "unknown behaviour")]:
        path.write_text(text)
        with pytest.raises(TestbedError, match=needle) as info:
            load_config(path)
        assert info.value.file is not None
