"""Resolver adapters, one module each; adding a resolver is adding one file that subclasses ResolverAdapter."""

from __future__ import annotations

from typing import cast

from testbed.discovery import adapters_in
from testbed.resolvers.base import ResolverAdapter, ResolverContext

__all__ = ["ResolverAdapter", "ResolverContext", "registry", "get_adapter"]

_REGISTRY: dict[str, type[ResolverAdapter]] | None = None


def registry() -> dict[str, type[ResolverAdapter]]:
    """Every adapter class in this package, by its ``name``."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = cast(dict[str, type[ResolverAdapter]], adapters_in(__name__, __path__, ResolverAdapter))
    return _REGISTRY


def get_adapter(name: str) -> ResolverAdapter:
    return registry()[name]()
