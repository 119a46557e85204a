"""Waiting for a lab host, as testcontainers does: a condition polled until it holds, with a wait strategy of the
lab's own (no probe involved: probing is a later stage that uses the lab).

A wait lasts as long as the host makes progress, not a fixed number of seconds: while its process is alive and
says it is still loading, or while its log still grows, the wait goes on (up to a generous limit); once it is
neither, it gets ``quiet_s`` more. When it fails, the message says what is true: the process exited (with its log
tail), it was still loading after N s, or it was up but never met the condition (with what it did answer).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import dns.exception
import dns.message

from testbed.errors import LabError
from testbed.lab.backends.base import Host

T = TypeVar("T")

QUIET_S = 15.0              # up, no longer loading, log silent: this long to meet the condition
LIMIT_S = 600.0             # however busy it looks, no wait goes beyond this (a million-name zone loads in minutes)
LIMIT_ENV = "TESTBED_WAIT_LIMIT"
POLL_EVERY_S = 0.01
HOST_EVERY_S = 0.2


def limit_s() -> float:
    return float(os.environ.get(LIMIT_ENV, LIMIT_S))


@dataclass
class Waited:
    """How a wait ended without its condition: what a failure message is made of."""

    exited: bool            # the process is gone
    loading: bool           # it still said it was loading when the limit came
    seconds: float


def wait_for(condition: Callable[[], T | None], *, host: Host, loading: Callable[[str], bool] | None = None,
             quiet_s: float = QUIET_S, limit: float | None = None,
             failed: Callable[[Waited], LabError]) -> T:
    """Poll ``condition`` until it returns something other than None, and return that.

    ``loading`` reads the host's log and says whether the host is still on its way (a server reading its zones);
    while it is, and while the log grows, the wait goes on. ``failed`` builds the error from how the wait ended.
    The host itself (alive? log?) is looked at every ``HOST_EVERY_S``: on docker each look is a daemon round trip."""
    limit = limit_s() if limit is None else limit
    start = last_progress = last_look = time.monotonic()
    log_size, was_loading = -1, True
    while True:
        result = condition()
        if result is not None:
            return result
        now = time.monotonic()
        if now - last_look >= HOST_EVERY_S or log_size < 0:
            last_look = now
            if not host.alive():
                raise failed(Waited(exited=True, loading=False, seconds=now - start))
            log = host.log_text()
            still_loading = loading(log) if loading is not None else False
            if still_loading or len(log) != log_size or still_loading != was_loading:
                last_progress = now         # busy, or just done loading: the quiet time starts again
            log_size, was_loading = len(log), still_loading
        if now - start > limit:
            raise failed(Waited(exited=False, loading=was_loading, seconds=now - start))
        if not was_loading and now - last_progress > quiet_s:
            raise failed(Waited(exited=False, loading=False, seconds=now - start))
        time.sleep(POLL_EVERY_S)


def query_once(address: str, qname: str = ".", qtype: str = "SOA", *,
               try_timeout: float = 0.05) -> dns.message.Message | None:
    """One query on a connected UDP socket: the answer, or None if none came within ``try_timeout``.

    A connected socket turns ICMP port-unreachable into an immediate ECONNREFUSED, so a daemon still binding its
    sockets is seen within milliseconds instead of one query timeout (resolver-cookbook.md section 6)."""
    query = dns.message.make_query(qname, qtype, want_dnssec=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(try_timeout)
        try:
            sock.connect((address, 53))
            sock.send(query.to_wire())
            return dns.message.from_wire(sock.recv(65535))
        except (ConnectionRefusedError, TimeoutError, OSError, dns.exception.DNSException):
            return None


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])
