"""The builtin authoritative server: serves pre-signed zones exactly as given, with switchable misbehaviour.

``answer`` (pure, no sockets) turns a query into a response; ``AuthServer`` puts it on UDP and TCP for several
addresses, each with its own zones; ``python -m testbed.auth CONFIG.json`` runs one in the foreground.
"""

from testbed.auth.answer import answer, answer_wire
from testbed.auth.behaviour import Behaviour
from testbed.auth.config import AuthConfig, Endpoint, load_config
from testbed.auth.server import AuthServer
from testbed.auth.zonedata import LiteralZone, ServedZone, load_zone_file, load_zone_text
from testbed.auth.zoneset import ZoneSet

__all__ = ["AuthConfig", "AuthServer", "Behaviour", "Endpoint", "LiteralZone", "ServedZone", "ZoneSet", "answer",
           "answer_wire", "load_config", "load_zone_file", "load_zone_text"]
