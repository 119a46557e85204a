"""Real authoritative servers beside the builtin one: one module per software (NSD, Knot DNS, BIND), each a
``ServerAdapter`` found by the registry below, as the resolvers are in testbed/resolvers/.

A zone picks its software with ``server:`` (on the zone, or scenario-wide), or a whole run with ``--auth``. The
builtin server needs no adapter: the lab starts it itself (testbed/lab/lab.py)."""

from __future__ import annotations

import importlib
import pkgutil

from testbed.auth.servers.base import ServerAdapter, ServerContext
from testbed.scenario.model import BUILTIN_SERVER, SERVER_SOFTWARE

__all__ = ["BUILTIN_SERVER", "SERVER_SOFTWARE", "ServerAdapter", "ServerContext", "get_server", "registry"]

_NOT_ADAPTERS = {"base", "served"}
_REGISTRY: dict[str, type[ServerAdapter]] | None = None


def registry() -> dict[str, type[ServerAdapter]]:
    """Every real-server adapter class in this package, by its ``name``."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, type[ServerAdapter]] = {}
        for module in pkgutil.iter_modules(__path__):
            if module.name in _NOT_ADAPTERS:
                continue
            mod = importlib.import_module(f"{__name__}.{module.name}")
            for obj in vars(mod).values():
                if isinstance(obj, type) and issubclass(obj, ServerAdapter) and obj is not ServerAdapter:
                    found[obj.name] = obj
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def get_server(name: str) -> ServerAdapter:
    return registry()[name]()
