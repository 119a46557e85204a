"""Adapters found by their package: adding a resolver or a server is adding one module that subclasses the base.

Imports nothing of the project: the resolver and server packages both stand on it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Any, cast


def adapters_in(package: str, path: Iterable[str], base: type,
                skip: Iterable[str] = ("base",)) -> dict[str, type]:
    """Every concrete subclass of ``base`` defined in the modules of ``package`` (``path`` is its ``__path__``),
    by its ``name`` attribute, sorted; modules named in ``skip`` hold helpers, not adapters. The caller narrows the
    result's type: mypy takes no abstract class where a ``type[T]`` is expected."""
    found: dict[str, type] = {}
    skipped = set(skip)
    for module in pkgutil.iter_modules(list(path)):
        if module.name in skipped:
            continue
        mod = importlib.import_module(f"{package}.{module.name}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
                found[cast(Any, obj).name] = obj      # every adapter class declares its name
    return dict(sorted(found.items()))
