"""An independent validator judges our answers: BIND's delv, asking the builtin server on 127.0.0.1.

delv trusts the zone's own key and validates every answer, including the NSEC / NSEC3 proofs of negative and
wildcard answers, with BIND's validator code.
"""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from testbed.auth import AuthConfig, AuthServer, Endpoint, ZoneSet
from testbed.auth.samples import EXAMPLE, sign_nsec, sign_nsec3

pytestmark = pytest.mark.skipif(shutil.which("delv") is None or shutil.which("dnssec-signzone") is None,
                                reason="needs bind9-dnsutils and bind9-utils")

QUERIES = {  # query -> what delv must say
    "www.example. A": "; fully validated",
    "alias.example. A": "; fully validated",
    "big.example. TXT": "; fully validated",
    "example. DNSKEY": "; fully validated",
    "x.wild.example. TXT": "; fully validated",
    "foo.wc.example. A": "; fully validated",
    "nope.example. A": "; negative response, fully validated",
    "x.y.www.example. A": "; negative response, fully validated",
    "www.example. TXT": "; negative response, fully validated",
    "x.wild.example. A": "; negative response, fully validated",
    "b.example. A": "; negative response, fully validated",
    "insecure.example. DS": "; negative response, fully validated",
}


@pytest.fixture(scope="module", params=["nsec", "nsec3"])
def zone(request, tmp_path_factory):
    if request.param == "nsec":
        return sign_nsec(EXAMPLE, "example.", inception=int(time.time()) - 3600)[0]
    return sign_nsec3(EXAMPLE, "example.", tmp_path_factory.mktemp("delv"), salt="aabb", iterations=1)


def test_delv_validates_every_answer(zone, tmp_path):
    key = zone.find_rdataset("example.", "DNSKEY")[0]
    flags, protocol, algorithm, _ = key.to_text().split(" ", 3)
    anchor = tmp_path / "anchor.conf"
    anchor.write_text(f'trust-anchors {{ example. static-key {flags} {protocol} {algorithm} '
                      f'"{key.to_text().split(" ", 3)[3].replace(" ", "")}"; }};\n')

    async def main() -> dict[str, str]:
        async with AuthServer(AuthConfig((Endpoint("127.0.0.1", 0, ZoneSet({"example.": zone})),))) as server:
            address, port = server.addresses[0]

            async def delv(query: str) -> str:
                proc = await asyncio.create_subprocess_exec(
                    "delv", "-a", str(anchor), "+root=example.", f"@{address}", "-p", str(port), *query.split(),
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
                out, _ = await asyncio.wait_for(proc.communicate(), 20)
                return out.decode()

            outputs = await asyncio.gather(*(delv(q) for q in QUERIES))
            return dict(zip(QUERIES, outputs, strict=True))

    for query, output in asyncio.run(main()).items():
        assert QUERIES[query] in output.splitlines(), f"{query}:\n{output}"
