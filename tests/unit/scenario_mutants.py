"""Seeded mutants of the bundled scenarios, for the loader fuzz test: byte mutations, structure mutations and the
hostile inputs that once crashed or hung ``testbed validate`` (issue 9).

Every mutant is a function of (seed, index) only, so a failing one is rebuilt from the numbers in the test's message.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = "name: x\nchecks:\n  - query: www.example.jp. A\n    expect: secure\n"
_REST = BASE[len("name: x\n"):]


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["name: x", "a0: &a0 [" + ",".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _fault(params: str, fault: str = "rrsig-expired") -> str:
    return f"name: x\nfaults:\n  - fault: {fault}\n    zone: example.jp.\n{params}{_REST}"


def _records(*lines: str) -> str:
    return "name: x\nzones:\n  example.jp.:\n    records: [" + ", ".join(lines) + "]\n" + _REST


# Each of these once gave a traceback, a hang or an error without a line (issue 9), or is a close relative.
HOSTILE: dict[str, str | bytes] = {
    "non-printable": "name: x\x01\n" + _REST,
    "nul-byte": "name: x\x00\n" + _REST,
    "c1-control": "name: \x80x\n" + _REST,
    "not-utf8": b"name: x\xff\xfe\n" + _REST.encode(),
    "deep-flow": "name: x\nfaults: " + "[" * 3000 + "]" * 3000 + "\n" + _REST,
    "deep-flow-unclosed": "name: x\nfaults: " + "{a: " * 2000 + "\n" + _REST,
    "deep-block": "name: x\nfaults:\n" + "".join(" " * i + "- \n" for i in range(0, 1400, 2)) + _REST,
    "qtype-65536": BASE.replace(" A\n", " TYPE65536\n"),
    "qtype-huge": BASE.replace(" A\n", " TYPE" + "9" * 400 + "\n"),
    "codepoint-110000": BASE.replace("name: x", 'name: "\\U00110000"'),
    "big-int-signing": "name: x\nzones:\n  example.jp.:\n    signing: {validity_days: " + "9" * 5000 + "}\n" + _REST,
    "big-int-fault": _fault("    rrset: " + "9" * 5000 + "\n"),
    "big-int-ede": BASE + "    ede: [" + "9" * 5000 + "]\n",
    "big-float": _fault("    rrset: 1e99999\n"),
    "date-2020-02-30": _fault("    rrset: 2020-02-30\n"),
    "bool-maybe": "name: x\nzones:\n  example.jp.:\n    replace_records: !!bool maybe\n" + _REST,
    "int-tag-text": _fault("    rrset: !!int twelve\n"),
    "float-tag-text": _fault("    rrset: !!float one\n"),
    "binary-bad": _fault("    rrset: !!binary 'a'\n"),
    "python-tag": _fault("    rrset: !!python/object:os.system 'a'\n"),
    "unhashable-key": _fault("    rrset: {[1]: 2}\n"),
    "lone-surrogate": BASE.replace("name: x", 'name: "\\ud800"'),
    "lone-surrogate-record": _records('"w\\udfff 300 A 192.0.2.1"'),
    "alias-bomb-key": _bomb(7) + "faults:\n  - fault: rrsig-expired\n    *a6 : 1\n" + _REST,
    "alias-bomb-value": _bomb(7) + "faults:\n  - fault: rrsig-expired\n    zone: *a6\n" + _REST,
    "alias-bomb-complex-key": "name: x\nfaults:\n  - fault: rrsig-expired\n" + "".join(
        f"    ? &k{i} [{','.join([f'*k{i - 1}' if i else 'x'] * 9)}]\n    : 1\n" for i in range(8)) + _REST,
    "alias-cycle": "name: x\nfaults: &a [*a]\n" + _REST,
    "alias-cycle-map": "name: x\nzones: &z {example.jp.: *z}\n" + _REST,
    "alias-undefined": "name: x\nfaults: *nothing\n" + _REST,
    "generate-smuggled": _records('"www 300 A 192.0.2.1\\n$GENERATE 1-400000000 h$ A 192.0.2.1"'),
    "generate-small": _records('"www 300 A 192.0.2.1\\n$GENERATE 1-3 h$ A 192.0.2.1"'),
    "origin-smuggled": _records('"www 300 A 192.0.2.1\\n$ORIGIN evil.\\nx A 192.0.2.1"'),
    "ttl-smuggled": _records('"www 300 A 192.0.2.1\\r\\n$TTL 1"'),
    "include": _records('"$INCLUDE /etc/passwd"'),
    "generate-block": "name: x\nzones:\n  example.jp.:\n    records: |\n      $GENERATE 1-400000000 h$ A 192.0.2.1\n"
                      + _REST,
    "line-separator": _records('"www 300 A 192.0.2.1\\u2028$ORIGIN evil."'),
    "unclosed-paren": _records('"www 300 TXT ( \\"a\\""'),
    "huge-file": "name: x\nsummary: " + "a" * 1_200_000 + "\n" + _REST,
    "idna-joiner": BASE.replace("www.example.jp.", "w\u00e4\u200d.example.jp."),
    "huge-label": BASE.replace("www.example.jp.", "w" * 300 + ".example.jp."),
    "zone-name-backtracking": "name: x\nzones:\n  " + "a" * 40 + "!: {}\n" + _REST,
    "zone-name-long": "name: x\nzones:\n  " + "a" * 200_000 + "!: {}\n" + _REST,
    "host-long": "name: x\nzones:\n  example.jp.: {servers: [" + "a-" * 100_000 + "!]}\n" + _REST,
    "fault-zone-backtracking": _fault("").replace("zone: example.jp.", "zone: " + "a" * 40 + "!"),
    "long-unknown-key": "name: x\n" + "k" * 500_000 + ": 1\n" + _REST,
    "empty-label": BASE.replace("www.example.jp.", "www..example.jp."),
    "bom": "\ufeff" + BASE,
    "only-bom": "\ufeff",
    "two-documents": BASE + "---\n" + BASE,
    "merge-key": "name: x\n<<: {summary: s}\n" + _REST,
    "tab-indent": "name: x\n\tsummary: a\n" + _REST,
    "answer-newline": BASE + '    answer: ["192.0.2.1\\n192.0.2.2"]\n',
    "answer-type65535": BASE.replace(" A\n", " TYPE65535\n") + '    answer: ["\\\\# 1 00"]\n',
}


def hostile() -> Iterator[tuple[str, bytes]]:
    for name, text in HOSTILE.items():
        yield name, text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def seeds() -> list[bytes]:
    """The bundled scenarios, sorted, as bytes: the material the mutants are made of."""
    return [p.read_bytes() for p in sorted((ROOT / "scenarios").rglob("*.yaml"))]


# Tokens that mean something to YAML, to DNS or to our loader: inserted or swapped in by the byte mutator.
_TOKENS = [b"[", b"]", b"{", b"}", b": ", b"- ", b"\n", b"\n  ", b"&a ", b"*a", b"!!bool ", b"!!int ", b"!!str ",
           b"!!binary ", b"? ", b"|", b">", b"'", b'"', b"#", b"~", b"null", b"true", b"maybe", b"0x1F", b"-1",
           b"65536", b"9" * 40, b"1e999", b"2020-02-30", b"\\U00110000", b"\\ud800", b'"\\n$GENERATE 1-9 x A 1.2.3.4"',
           b"$ORIGIN ", b"TYPE65536", b"\t", b"\x00", b"\xff", b".", b"..", b"@", b"\\", b"(", b")", b";", b"*",
           b"<<: "]

# Values a structure mutation puts in place of a real one.
_VALUES: list[Any] = [None, True, False, 0, -1, 1, 17, 253, 255, 256, 65536, 2**31, 2**64, 10**40, 1.5, float("inf"),
                      "", " ", "x", "nope", "example.jp.", "absent.example.", "www.example.jp./A", "nowhere./TXT",
                      "www.example.jp./TYPE65536", "\n$GENERATE 1-9 x A 1.2.3.4", "a" * 300, [], [None], {}, {"a": 1},
                      [[[[1]]]], "2020-02-30", "1.2.3.4", "30d", "-5d", "SHA1", "ECDSAP256SHA256", 5, 0, "0", "ksk"]


def _byte_mutant(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(out) + 1)
        op = rng.randrange(6)
        if op == 0 and out:                                  # flip a byte
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 1:                                        # insert a meaningful token
            out[pos:pos] = rng.choice(_TOKENS)
        elif op == 2:                                        # delete a run
            del out[pos:pos + rng.randint(1, 40)]
        elif op == 3 and out:                                # duplicate a run somewhere else
            start = rng.randrange(len(out))
            chunk = out[start:start + rng.randint(1, 80)]
            out[pos:pos] = chunk
        elif op == 4:                                        # swap a token for another
            token = rng.choice(_TOKENS)
            at = out.find(token, pos)
            if at >= 0:
                out[at:at + len(token)] = rng.choice(_TOKENS)
        else:                                                # change indentation of a line
            at = out.rfind(b"\n", 0, pos) + 1
            out[at:at] = b" " * rng.randint(1, 3)
    return bytes(out)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the mutants are made 5x faster
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _structure_mutant(rng: random.Random, data: bytes) -> bytes:
    tree = yaml.load(data, Loader=_Loader)  # noqa: S506  # a safe loader; the bundled scenarios are ours
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(tree) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        op = rng.randrange(5)
        if op == 0:                                          # replace a value
            parent[last] = rng.choice(_VALUES)
        elif op == 1:                                        # delete it
            del parent[last]
        elif op == 2 and isinstance(parent, dict):           # add a key, sometimes an unknown one
            parent[rng.choice(["zone", "rrset", "name", "key", "algorithm", "digest_type", "by", "count", "extra"])] = \
                rng.choice(_VALUES)
        elif op == 3:                                        # wrap it in a list or a mapping
            parent[last] = rng.choice([[parent[last]], {"x": parent[last]}])
        else:                                                # copy another value here
            other = rng.choice(paths)
            source = tree
            try:
                for step in other:
                    source = source[step]
            except (KeyError, IndexError, TypeError):
                continue
            parent[last] = source if not isinstance(source, dict | list) else _copy(source)
    return yaml.dump(tree, Dumper=_Dumper, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")


def _copy(value: Any) -> Any:
    return yaml.load(yaml.dump(value, Dumper=_Dumper), Loader=_Loader)  # noqa: S506


def mutants(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` mutants: half byte-level, half structure-level, each from a seed file picked by the rng."""
    corpus = seeds()
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        source = rng.randrange(len(corpus))
        if index % 2:
            yield f"byte-{seed}-{index}", _byte_mutant(rng, corpus[source])
        else:
            yield f"structure-{seed}-{index}", _structure_mutant(rng, corpus[source])
