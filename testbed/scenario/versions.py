"""Version ranges for overrides: the versions a documented divergence was measured on.

Grammar (small on purpose, the resolvers' own upstream version numbers, never Debian revisions):

  range   := clause ( "||" clause )*          any clause matches
  clause  := term ( "," term )*               every term matches
  term    := [ "<" | "<=" | ">" | ">=" | "==" ] VERSION
  VERSION := N ( "." N )*                     e.g. 9.18, 9.18.49, 1.26.2

A bare VERSION (or ``==VERSION``) matches that release and, when it names fewer parts, every release under it:
``9.18`` matches 9.18.49, ``9.18.49`` matches only 9.18.49. Comparisons are numeric, part by part (9.9 < 9.18).
A resolver's own version text is reduced to its leading numbers: ``9.20.30-1~deb13u1-Debian`` is 9.20.30.
"""

from __future__ import annotations

import re
from functools import lru_cache

from testbed.errors import ScenarioError

_TERM_RE = re.compile(r"^(<=|>=|==|<|>)?\s*(\d+(?:\.\d+)*)$")
_LEADING_RE = re.compile(r"(\d+(?:\.\d+)*)")
EXAMPLES = '"<9.20", "9.18.49", ">=1.17,<1.20" or "9.18.49 || 9.20.30"'

Version = tuple[int, ...]
Term = tuple[str, Version]


def parse_version(text: str) -> Version | None:
    """The leading dotted number of a version text (epoch dropped): ``1:9.20.30-1~deb13u1`` -> (9, 20, 30)."""
    text = text.strip()
    if re.match(r"^\d+:", text):
        text = text.split(":", 1)[1]
    match = _LEADING_RE.match(text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


@lru_cache(maxsize=256)
def parse_range(text: str) -> tuple[tuple[Term, ...], ...]:
    """``"<9.20 || 9.20.30"`` -> clauses of (operator, version) terms. Raises ScenarioError (no file: the
    loader adds file and line)."""
    clauses: list[tuple[Term, ...]] = []
    for clause_text in text.split("||"):
        terms: list[Term] = []
        for term_text in clause_text.split(","):
            match = _TERM_RE.match(term_text.strip())
            if not match:
                raise ScenarioError(f"cannot read version range {text!r}: {term_text.strip()!r} is not "
                                    "[<|<=|>|>=|==]VERSION",
                                    fix=f"write e.g. {EXAMPLES} (numbers only, no Debian revision)")
            terms.append((match.group(1) or "==", tuple(int(p) for p in match.group(2).split("."))))
        clauses.append(tuple(terms))
    return tuple(clauses)


def _term_matches(version: Version, op: str, bound: Version) -> bool:
    if op == "==":
        return version[:len(bound)] == bound
    width = max(len(version), len(bound))
    left, right = version + (0,) * (width - len(version)), bound + (0,) * (width - len(bound))
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def version_in_range(version: str, range_text: str) -> bool:
    """Whether the resolver's version text falls in the range. An unreadable version is in no range."""
    parsed = parse_version(version)
    if parsed is None:
        return False
    return any(all(_term_matches(parsed, op, bound) for op, bound in clause) for clause in parse_range(range_text))
