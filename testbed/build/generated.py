"""Generated zone content: ``delegations: N`` on a zone, a registry-sized zone without a million record lines.

Deterministic for a zone and N (the seed is both), shaped like reference/perf-baselines.md section 1 and
bench/bench_sign.py: N delegations with random 5-15 character labels and 2 NS each; the first max(10, N/1000) are
providers whose name servers sit in their own bailiwick with glue, the rest point at a provider's name servers; about
10 % carry a DS (algorithm 13, digest type 2, a random digest: their children are not in the lab, so a resolver that
follows one finds no answer, as for any child the lab does not run).
"""

from __future__ import annotations

import random
import string
import zlib
from collections.abc import Iterator

TTL = 86400
DS_SHARE = 0.1
_ALPHABET = string.ascii_lowercase + string.digits


def delegation_lines(zone: str, count: int, taken: set[str]) -> Iterator[str]:
    """Record lines (absolute owner names) for ``count`` generated delegations of ``zone``. ``taken`` holds the
    zone's own first labels (children, name servers), which a generated label never reuses."""
    rng = random.Random(zlib.crc32(f"{zone} {count}".encode()))
    suffix = zone if zone != "." else ""
    labels: list[str] = []
    seen = set(taken)
    while len(labels) < count:
        label = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(5, 15)))
        if label not in seen:
            seen.add(label)
            labels.append(label)
    providers = labels[:max(10, count // 1000)]
    for index, label in enumerate(labels):
        owner = f"{label}.{suffix}"
        if index < len(providers):
            yield f"{owner} {TTL} IN NS ns1.{owner}"
            yield f"{owner} {TTL} IN NS ns2.{owner}"
            yield f"ns1.{owner} {TTL} IN A 192.0.{index % 250}.1"
            yield f"ns2.{owner} {TTL} IN A 198.51.{index % 250}.2"
        else:
            provider = providers[rng.randrange(len(providers))]
            yield f"{owner} {TTL} IN NS ns1.{provider}.{suffix}"
            yield f"{owner} {TTL} IN NS ns2.{provider}.{suffix}"
        if rng.random() < DS_SHARE:
            yield f"{owner} {TTL} IN DS {rng.randrange(65536)} 13 2 {rng.randbytes(32).hex().upper()}"
