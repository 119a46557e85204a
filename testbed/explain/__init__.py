"""Explain a verdict: our own chain-of-trust walk, independent of the resolvers (DESIGN.md, "explain")."""

from testbed.explain.model import Chain, Link, ZoneStep
from testbed.explain.walk import Fetch, FetchError, walk

__all__ = ["Chain", "Fetch", "FetchError", "Link", "ZoneStep", "walk"]
