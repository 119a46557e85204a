"""Resolver adapters, one module each; adding a resolver is adding one file that subclasses ResolverAdapter."""

from __future__ import annotations

import importlib
import pkgutil

from testbed.resolvers.base import ResolverAdapter, ResolverContext

__all__ = ["ResolverAdapter", "ResolverContext", "registry", "get_adapter"]

_REGISTRY: dict[str, type[ResolverAdapter]] | None = None


def registry() -> dict[str, type[ResolverAdapter]]:
    """Every adapter class in this package, by its ``name``."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, type[ResolverAdapter]] = {}
        for module in pkgutil.iter_modules(__path__):
            if module.name == "base":
                continue
            mod = importlib.import_module(f"{__name__}.{module.name}")
            for obj in vars(mod).values():
                if isinstance(obj, type) and issubclass(obj, ResolverAdapter) and obj is not ResolverAdapter:
                    found[obj.name] = obj
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def get_adapter(name: str) -> ResolverAdapter:
    return registry()[name]()
