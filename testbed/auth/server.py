"""The asyncio UDP + TCP front of the builtin server.

One ``AuthServer`` listens on several (address, port) pairs, each answering only from its own ``ZoneSet``: one
process can stand in for many servers, and a resolver still has to walk the real delegation chain. ``load`` swaps
zones and behaviour of every address at once, between two queries.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from dataclasses import dataclass

import dns.message
import dns.rcode
import dns.rdatatype

from testbed.auth.answer import answer_wire
from testbed.auth.behaviour import Behaviour
from testbed.auth.config import AuthConfig, Endpoint, _hostport
from testbed.auth.zoneset import ZoneSet
from testbed.errors import EnvironmentProblem, TestbedError

log = logging.getLogger("testbed.auth")

DEFAULT_TCP_IDLE_TIMEOUT = 10.0  # seconds; RFC 7766 6.2.3 asks for some, BIND uses 30, NSD 120


@dataclass
class _Slot:
    """The live state of one address. ``state`` is replaced in one assignment, so a query sees old or new."""

    endpoint: Endpoint
    state: tuple[ZoneSet, Behaviour]
    udp: _UdpSocket | None = None
    tcp: asyncio.Server | None = None
    bound_port: int | None = None


# Datagrams read per readiness callback: enough to drain a burst, few enough that TCP and signals get their turn.
_UDP_BATCH = 64


class _UdpSocket:
    """UDP straight on a non-blocking socket: asyncio's datagram transport costs as much as answering a query."""

    def __init__(self, server: AuthServer, slot: _Slot, sock: socket.socket) -> None:
        self.server = server
        self.slot = slot
        self.sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        sock = self.sock
        for _ in range(_UDP_BATCH):
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # an ICMP error for an earlier answer surfacing here: nothing to do
            zones, behaviour = self.slot.state
            try:
                out = answer_wire(data, zones, behaviour, tcp=False)
            except Exception:  # a bug must cost one answer, not the server
                log.exception("internal error answering %s", addr[0])
                continue
            if self.server.query_log:
                _log_query(addr, data, out, "udp")
            if out is None:
                continue
            if behaviour.delay_ms:
                asyncio.get_running_loop().call_later(behaviour.delay_ms / 1000, _send_udp, sock, out, addr)
            else:
                _send_udp(sock, out, addr)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()


class AuthServer:
    """Serve an ``AuthConfig``. Use ``await start()`` / ``await close()`` or ``async with``."""

    def __init__(self, config: AuthConfig | None = None, *, query_log: bool = False,
                 tcp_idle_timeout: float = DEFAULT_TCP_IDLE_TIMEOUT) -> None:
        self.query_log = query_log
        self.tcp_idle_timeout = tcp_idle_timeout
        self._slots: dict[tuple[str, int], _Slot] = {}
        self._started = False
        self._connections: set[asyncio.StreamWriter] = set()
        if config is not None:
            self.load(config)

    # -- data --------------------------------------------------------------------------------------------------

    def load(self, config: AuthConfig) -> None:
        """Replace zones and behaviour of every address at once. Call it from the event loop's thread.

        Before start it also sets the addresses; after start the addresses must stay the same (binding new ones
        could fail half-way, and a failed load must leave the old data in place).
        """
        new = {e.key: e for e in config.endpoints}
        if self._started and set(new) != set(self._slots):
            raise TestbedError("the new config listens on other addresses than the running server",
                               fix="restart the server to change addresses")
        if not self._started:
            self._slots = {key: _Slot(e, (e.zones, e.behaviour)) for key, e in new.items()}
            return
        for key, endpoint in new.items():
            slot = self._slots[key]
            slot.endpoint = endpoint
            slot.state = (endpoint.zones, endpoint.behaviour)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(address, port) actually bound; differs from the config where it asked for port 0."""
        return [(addr, slot.bound_port or port) for (addr, port), slot in self._slots.items()]

    # -- sockets -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every address (UDP and TCP). On any failure nothing stays bound."""
        if self._started:
            return
        try:
            for slot in self._slots.values():
                await self._bind(slot)
        except BaseException:
            await self._unbind()
            raise
        self._started = True
        for address, port in self.addresses:
            log.info("listening on %s (udp, tcp)", _hostport(address, port))

    async def _bind(self, slot: _Slot) -> None:
        address, port = slot.endpoint.key
        # Port 0 (tests) means any free port, the same one for UDP and TCP: retry if TCP finds it taken.
        for attempt in range(20):
            sock = socket.socket(_family(address), socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.bind((address, port))
            except OSError as exc:
                sock.close()
                raise _bind_error(address, port, "udp", exc) from None
            bound = sock.getsockname()[1]
            udp = _UdpSocket(self, slot, sock)
            try:
                tcp = await asyncio.start_server(lambda r, w: self._serve_tcp(slot, r, w), host=address, port=bound,
                                                 family=_family(address), reuse_address=True)
            except OSError as exc:
                udp.close()
                if port == 0 and attempt < 19:
                    continue
                raise _bind_error(address, bound, "tcp", exc) from None
            slot.udp, slot.tcp, slot.bound_port = udp, tcp, bound
            return

    async def _unbind(self) -> None:
        for slot in self._slots.values():
            if slot.udp is not None:
                slot.udp.close()
                slot.udp = None
            if slot.tcp is not None:
                # No wait_closed(): on 3.11 it can wait for clients; close() has already closed their connections.
                slot.tcp.close()
                slot.tcp = None

    async def close(self) -> None:
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()
        await self._unbind()
        self._started = False

    async def __aenter__(self) -> AuthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve_tcp(self, slot: _Slot, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """RFC 7766: length-prefixed messages, several per connection, answered in order, closed when idle."""
        peer = writer.get_extra_info("peername")
        self._connections.add(writer)
        try:
            while not slot.state[1].tcp_refuse:
                header = await asyncio.wait_for(reader.readexactly(2), self.tcp_idle_timeout)
                data = await asyncio.wait_for(reader.readexactly(struct.unpack("!H", header)[0]),
                                              self.tcp_idle_timeout)
                zones, behaviour = slot.state
                if behaviour.tcp_refuse:
                    break
                out = answer_wire(data, zones, behaviour, tcp=True)
                if self.query_log:
                    _log_query(peer, data, out, "tcp")
                if out is not None:
                    if behaviour.delay_ms:
                        await asyncio.sleep(behaviour.delay_ms / 1000)
                    writer.write(struct.pack("!H", len(out)) + out)
                    await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the client went away or stayed idle: both normal
        except Exception:
            log.exception("internal error on TCP from %s", peer)
        finally:
            self._connections.discard(writer)
            writer.close()


def _send_udp(sock: socket.socket, out: bytes, addr: tuple[str, int]) -> None:
    try:  # noqa: SIM105 - plain try is cheaper than contextlib.suppress on the hot path
        sock.sendto(out, addr)
    except OSError:
        pass  # send buffer full, socket closed by a reload, or client gone: UDP, the client will retry


def _log_query(peer: tuple[str, int], query: bytes, response: bytes | None, transport: str) -> None:
    """One line per query: client qname qtype rcode (or "dropped") transport. Parses again: it is off under load."""
    rcode = "dropped"
    if response is not None:
        try:
            rcode = dns.rcode.to_text(dns.message.from_wire(response).rcode())
        except Exception:
            rcode = dns.rcode.to_text(dns.rcode.Rcode(response[3] & 0xF))
    try:
        q = dns.message.from_wire(query).question[0]
        log.info("%s %s %s %s %s", peer[0], q.name, dns.rdatatype.to_text(q.rdtype), rcode, transport)
    except Exception:
        log.info("%s - - %s %s", peer[0], rcode, transport)


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _bind_error(address: str, port: int, proto: str, exc: OSError) -> EnvironmentProblem:
    return EnvironmentProblem(f"cannot listen on {_hostport(address, port)} ({proto}): {exc.strerror or exc}",
                              fix="stop what uses that address and port, pick another port, or add the address "
                                  "to a local interface")
