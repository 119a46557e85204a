"""Real authoritative servers beside the builtin one: one module per software (NSD, Knot DNS, BIND), each a
``ServerAdapter`` found by the registry below, as the resolvers are in testbed/resolvers/.

A zone picks its software with ``server:`` (on the zone, or scenario-wide), or a whole run with ``--auth``. The
builtin server needs no adapter: the lab starts it itself (testbed/lab/lab.py)."""

from __future__ import annotations

from typing import cast

from testbed.auth.servers.base import ServerAdapter, ServerContext
from testbed.discovery import adapters_in
from testbed.scenario.model import BUILTIN_SERVER, SERVER_SOFTWARE

__all__ = ["BUILTIN_SERVER", "SERVER_SOFTWARE", "ServerAdapter", "ServerContext", "get_server", "registry"]

_NOT_ADAPTERS = {"base", "served"}
_REGISTRY: dict[str, type[ServerAdapter]] | None = None


def registry() -> dict[str, type[ServerAdapter]]:
    """Every real-server adapter class in this package, by its ``name``."""
    global _REGISTRY
    if _REGISTRY is None:
        found = adapters_in(__name__, __path__, ServerAdapter, skip=_NOT_ADAPTERS)
        _REGISTRY = cast(dict[str, type[ServerAdapter]], found)
    return _REGISTRY


def get_server(name: str) -> ServerAdapter:
    return registry()[name]()
