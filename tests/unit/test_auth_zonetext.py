"""The builtin server's fast zone reader gives exactly what dnspython's literal reader gives, or leaves it to it."""

from __future__ import annotations

import time
from pathlib import Path

import dns.exception
import dns.name
import pytest

from testbed.auth.samples import EXAMPLE, signed_pair
from testbed.auth.zonedata import builder_from_zone, load_zone_file, load_zone_text
from testbed.auth.zonetext import _Reader, _Unsupported, load_served_zone
from testbed.dnssec import SignOptions, generate_key, sign_zone

ORIGIN = dns.name.from_text("example.")


def by_dnspython(path: Path) -> dict:
    return {key: set(node) for key, node in builder_from_zone(load_zone_file(path, ORIGIN)).build().nodes.items()}


def by_fast_reader(path: Path) -> dict:
    zone = _Reader(ORIGIN).read(path).build()  # raises _Unsupported rather than falling back
    return {key: set(node) for key, node in zone.nodes.items()}


def signed_texts() -> list[str]:
    now = int(time.time())
    parent, _ = signed_pair(now - 3600)
    keys = [generate_key("example.", 13, "ksk"), generate_key("example.", 13, "zsk")]
    nsec3 = sign_zone(load_zone_text(EXAMPLE, "example."), keys,
                      SignOptions(now - 3600, now + 86400, denial="nsec3", nsec3_salt=b"\xab", nsec3_opt_out=True))
    return [parent.to_text(), nsec3.to_text()]


@pytest.mark.parametrize("index", [0, 1], ids=["nsec-ed25519", "nsec3-ecdsa"])
def test_signed_zones_read_the_same(tmp_path, index):
    path = tmp_path / "z.zone"
    path.write_text(signed_texts()[index])
    fast = by_fast_reader(path)
    assert fast == by_dnspython(path)
    assert load_served_zone(path, ORIGIN).nodes.keys() == fast.keys()


LITERAL = """$ORIGIN example.
@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300
@ 300 IN NS ns1
ns1 300 IN A 192.0.2.1
Www 300 IN A 192.0.2.80
www 300 IN A 192.0.2.80
www 60 IN A 192.0.2.81
alias 300 IN CNAME www
alias 300 IN A 192.0.2.9
txt 300 IN TXT "quoted; with a semicolon" "and \\"escapes\\""
mx 300 IN MX 10 mail.example.net.
    300 IN AAAA 2001:db8::1
$ORIGIN sub.example.
deep 300 IN NS ns1.deep
ns1.deep 300 IN A 192.0.2.53
"""


def test_literal_data_reads_the_same(tmp_path):
    """CNAME beside other data, letter case, relative names under another $ORIGIN, duplicates with a lower TTL."""
    path = tmp_path / "z.zone"
    path.write_text(LITERAL)
    assert by_fast_reader(path) == by_dnspython(path)


@pytest.mark.parametrize("text", [
    "$ORIGIN example.\n@ 300 IN SOA ns1 hostmaster ( 1 3600 600\n 86400 300 )\n",
    "$TTL 300\nexample. IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 300\n",
    "$ORIGIN example.\n$GENERATE 1-3 host$ 300 IN A 192.0.2.$\n",
    "example. 300 CH TXT \"x\"\n",
], ids=["parentheses", "no-ttl", "generate", "class"])
def test_unusual_text_is_left_to_dnspython(tmp_path, text):
    path = tmp_path / "z.zone"
    path.write_text(text)
    with pytest.raises(_Unsupported):
        _Reader(ORIGIN).read(path)


def test_fallback_serves_the_same_and_errors_name_the_line(tmp_path):
    path = tmp_path / "z.zone"
    path.write_text("$ORIGIN example.\n@ 300 IN SOA ns1 hostmaster ( 1 3600 600\n 86400 300 )\n"
                    "www 300 IN A 192.0.2.1\n")
    assert {key: set(node) for key, node in load_served_zone(path, ORIGIN).nodes.items()} == by_dnspython(path)
    path.write_text("example. 300 IN SOA ns1.example. h.example. 1 2 3 4 5\nwww.example. 300 IN A nope\n")
    with pytest.raises(dns.exception.SyntaxError, match=f"{path}:2"):
        load_served_zone(path, ORIGIN)
