"""What every section reader shares: the file being read, line tracking, and checked primitive values.

Errors name ``file:line`` from the node they are about: PyYAML's nodes keep their start position, which the plain
objects of ``safe_load`` would lose.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import dns.exception
import dns.name
import yaml

from testbed.errors import ScenarioError
from testbed.scenario.bounded_yaml import excerpt
from testbed.scenario.model import ActionSignature, Where

# The parameter names one fault accepts. The fault registry hands the loader {fault id: parameter names}.
FaultParams = Collection[str]

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
FLOAT = "tag:yaml.org,2002:float"
# Zone and server names are host names; anything else is almost always a typo or a pasted comment. Labels are
# separated by exactly one dot: a pattern where the dot is optional backtracks exponentially on "aaaa...a!".
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_ZONE_NAME_RE = re.compile(rf"\.|{_LABEL}(?:\.{_LABEL})*\.?")
MAX_NAME_CHARS = 255  # a domain name's limit in text, checked before any pattern runs over it

Fields = dict[str, tuple[yaml.Node, yaml.Node]]
# Tab separates fields in zone files; every other C0/C1 control and Unicode line separator is refused in a line.
LINE_BREAK_OR_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_NUMBER_CHARS = 30  # far above any DNS number, far below Python's 4,300-digit int() limit


def _tag_name(tag: str) -> str:
    """``tag:yaml.org,2002:bool`` -> ``!!bool``, as the person wrote it."""
    return "!!" + tag.rsplit(":", 1)[1] if tag.startswith("tag:yaml.org,2002:") else tag


@dataclass(frozen=True)
class ReadContext:
    """The file being read and what the rest of the test-bed knows (``None``: that part is not checked)."""

    file: Path
    loader: yaml.SafeLoader
    known_faults: Mapping[str, FaultParams] | None = None
    known_resolvers: Collection[str] | None = None
    known_topologies: Collection[str] | None = None
    known_actions: Mapping[str, ActionSignature] | None = None


def suggest(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean' hint, or '' when nothing is close."""
    if len(word) > 100:  # no key or id is that long, and difflib's cost grows with the word
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def describe(node: yaml.Node) -> str:
    """How a wrongly typed value looks to the person who wrote it."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping (key: value pairs)"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kinds = {STR: "text", INT: "a number", BOOL: "true/false", NULL: "nothing (empty)", FLOAT: "a decimal number"}
    kind = kinds.get(node.tag, "a value")
    return kind if node.tag == NULL else f"{kind} {excerpt(str(node.value))}"


def getter(fields: Fields) -> Callable[[str], yaml.Node]:
    """A small accessor for a mapping's value nodes, to keep the builders readable."""
    return lambda key: fields[key][1]


def dns_problem(exc: Exception) -> str:
    """dnspython's message without its '<string>:3:' prefix (that line is in our wrapper, not the user's file)."""
    text = re.sub(r"^<string>:\d+:\s*", "", str(exc)).strip().rstrip(".")
    return (text[:1].lower() + text[1:]) if text else type(exc).__name__


class NodeReader:
    """Base of the section readers: knows the file, so every error can name it, and reads checked primitives."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx
        self.file = ctx.file
        self.loader = ctx.loader

    # ---- errors and line tracking ------------------------------------------------------------------------------

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1  # PyYAML counts from 0, editors from 1

    def where(self, node: yaml.Node) -> Where:
        return Where(self.file, self.line(node))

    def fail(self, node: yaml.Node | int, message: str, fix: str | None = None) -> NoReturn:
        line = node if isinstance(node, int) else self.line(node)
        raise ScenarioError(message, file=self.file, line=line, fix=fix)

    # ---- structure ---------------------------------------------------------------------------------------------

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> Fields:
        """``{key: (key node, value node)}``; rejects unknown, duplicate and missing keys."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value lines), got {describe(node)}.",
                      f"write {what} as 'key: value' lines; allowed keys: {', '.join(allowed)}.")
        out: Fields = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == NULL:
                self.fail(key_node, f"keys in {what} must be plain words.", "write each key as a word, 'key: value'.")
            key = str(key_node.value)
            if key not in allowed:
                self.fail(key_node, f"unknown key {key!r} in {what}.",
                          f"{suggest(key, allowed)}Allowed keys here: {', '.join(allowed)}.")
            if key in out:
                self.fail(key_node, f"key {key!r} appears twice in {what} (first on line {self.line(out[key][0])}).",
                          "keep only one of them.")
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                self.fail(node, f"{what} has no {key!r} key, which is required.", f"add '{key}: ...' to {what}.")
        return out

    def sequence(self, node: yaml.Node, what: str, example: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list, got {describe(node)}.", f"write it as a list, e.g. {example}.")
        return list(node.value)

    def one_or_many(self, node: yaml.Node) -> list[yaml.Node]:
        """A list, or a single value standing for a one-item list (``ede: 7`` is ``ede: [7]``)."""
        return list(node.value) if isinstance(node, yaml.SequenceNode) else [node]

    # ---- primitive values --------------------------------------------------------------------------------------

    def text(self, node: yaml.Node, what: str, *, allow_empty: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
            fix = "give it a value." if node.tag == NULL else "put the value in quotes."
            self.fail(node, f"{what} must be text, got {describe(node)}.", fix)
        value = str(node.value).strip()
        if not value and not allow_empty:
            self.fail(node, f"{what} is empty.", "give it a value or remove the key.")
        return value

    def loose_text(self, node: yaml.Node, what: str) -> str:
        """Any scalar as its literal text: record and rdata lines may look like numbers to YAML (``"10"``)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL or not str(node.value).strip():
            self.fail(node, f"{what} must be a line of text, got {describe(node)}.", "put the line in quotes.")
        text = str(node.value).strip()
        control = LINE_BREAK_OR_CONTROL.search(text)
        if control is not None:
            # One line is one record or one rdata: a "\n" escape would smuggle a second one (or a $GENERATE).
            self.fail(node, f"{what} {excerpt(text)} contains U+{ord(control.group()):04X}, a line break or control "
                            "character: it must be exactly one line.", "write one line per list item.")
        return text

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.fail(node, f"{what} must be true or false, got {describe(node)}.", "write true or false.")
        return bool(self.construct(node, what))

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            self.fail(node, f"{what} must be a whole number, got {describe(node)}.", "write a number without quotes.")
        if len(str(node.value)) > _MAX_NUMBER_CHARS:
            self.fail(node, f"{what} must be between {low} and {high}, got a number of {len(str(node.value))} "
                            "digits.", f"write a number from {low} to {high}.")
        value = int(self.construct(node, what))
        if not low <= value <= high:
            self.fail(node, f"{what} must be between {low} and {high}, got {value}.",
                      f"write a number from {low} to {high}.")
        return value

    def choice(self, node: yaml.Node, what: str, choices: Iterable[str]) -> str:
        choices = list(choices)
        value = self.text(node, what)
        if value not in choices:
            self.fail(node, f"{what} is {value!r}, which is not one of: {', '.join(choices)}.",
                      f"{suggest(value, choices)}Use one of the listed words.")
        return value

    def plain(self, node: yaml.Node, what: str = "this value") -> Any:
        """The ordinary Python value of a node (fault parameters are passed through as written)."""
        return self.construct(node, what, deep=True)

    def construct(self, node: yaml.Node, what: str, *, deep: bool = False) -> Any:
        """PyYAML's value for a node; a value its constructor cannot build (a date 2020-02-30, ``!!bool maybe``,
        a 5,000-digit number) is an error at the node's line, not a traceback."""
        if isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT) and len(str(node.value)) > _MAX_NUMBER_CHARS:
            self.fail(node, f"{what} is a number of {len(str(node.value))} digits, too long to be meant.",
                      "write a number of at most 30 digits.")
        try:
            return self.loader.construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise  # marked with its own line; the loader turns it into a ScenarioError
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            detail = "" if isinstance(exc, KeyError) else f" ({exc})"
            self.fail(node, f"{what} cannot be read as {_tag_name(node.tag)}: {describe(node)}{detail}.",
                      "write a plain value (quote it to make it text), or correct it.")

    # ---- names -------------------------------------------------------------------------------------------------

    def zone_name(self, node: yaml.Node, what: str) -> str:
        text = self.text(node, what)
        if len(text) > MAX_NAME_CHARS or not _ZONE_NAME_RE.fullmatch(text):
            self.fail(node, f"{what}: {text!r} is not a valid zone name.",
                      "use a domain name such as 'example.jp.' (letters, digits and hyphens; no spaces).")
        try:
            return dns.name.from_text(text).to_text().lower()
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(node, f"{what}: {text!r} is not a valid zone name: {dns_problem(exc)}.",
                      "labels must be 1-63 characters and the whole name at most 255.")
