"""Parse a scenario file into PyYAML's node tree with the work bounded, whatever the file holds.

Scenario files come from people and from other tools; a hostile or broken one must end in a ``ScenarioError``
naming the file and line, quickly, never in a traceback or a hang. So, before and while parsing:
- the file's size is capped before it is decoded (``MAX_FILE_BYTES``);
- nesting depth is capped while composing (PyYAML's composer recurses, so a file of 3,000 '[' would otherwise end
  in RecursionError), and again after it, counting through aliases (``MAX_DEPTH``);
- aliases are counted, and the size of the tree as if every alias were expanded is computed without expanding it
  (``MAX_ALIASES``, ``MAX_EXPANDED_NODES``): a 500-byte "billion laughs" file is refused, not walked;
- a node that contains itself through an alias is refused (nothing downstream expects a cycle);
- every scalar must consist of characters: no lone surrogates or control characters written as escapes
  (``"\\ud800"``, ``"\\x01"``), which would break the console, JSON and JUnit output later.
Messages never print an expanded alias or a whole node, only short excerpts.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.events import AliasEvent, CollectionStartEvent

from testbed.errors import ScenarioError

MAX_FILE_BYTES = 1024 * 1024         # the largest bundled scenario is a few kilobytes
MAX_DEPTH = 64                       # the deepest real scenario nests 7 levels
MAX_ALIASES = 1000
MAX_EXPANDED_NODES = 200_000         # the node count with every alias expanded

# The characters YAML itself accepts in a stream (PyYAML's Reader.NON_PRINTABLE); an escape in a quoted scalar can
# produce any code point, so the same test is applied to every scalar's value.
_NON_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_YAML_FIX = ("check indentation (spaces, not tabs), colons after keys and closing brackets; "
             "quote values that contain ': ' or start with a special character.")


def excerpt(text: str, limit: int = 60) -> str:
    """A short, printable quote of user text for a message."""
    shown = repr(text[:limit])
    return shown + (f" (and {len(text) - limit} more characters)" if len(text) > limit else "")


def _line_at(text: str | bytes, offset: int) -> int:
    newline = "\n" if isinstance(text, str) else b"\n"
    return text.count(newline, 0, max(offset, 0)) + 1  # type: ignore[arg-type]  # str/str or bytes/bytes


class BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` whose composer stops at ``MAX_DEPTH`` levels and ``MAX_ALIASES`` aliases."""

    def __init__(self, stream: str, file: Path) -> None:
        super().__init__(stream)
        self.file = file
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ScenarioError(f"this file uses more than {MAX_ALIASES} aliases (*name).", file=self.file,
                                    line=event.start_mark.line + 1,
                                    fix="write the values out, or use fewer anchors and aliases.")
        if not isinstance(event, CollectionStartEvent):
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ScenarioError(f"lists and mappings are nested more than {MAX_DEPTH} levels deep here.",
                                    file=self.file, line=event.start_mark.line + 1,
                                    fix="a scenario nests a few levels at most; check for unclosed brackets.")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_text(path: Path) -> str:
    """The file's text, refusing oversized and undecodable files with the line where the problem is."""
    if path.exists() and not path.is_file():  # a FIFO or a device would block the read or never end
        raise ScenarioError("this is not a regular file.", file=path, fix="point at a scenario file (*.yaml).")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("no such scenario file.", file=path, fix="check the path.") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read this file: {exc}.", file=path,
                            fix="scenario files must be readable UTF-8 text.") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"the file is larger than {MAX_FILE_BYTES // 1024} KiB, the most a scenario file may be "
                            f"(the limit is reached at byte offset {MAX_FILE_BYTES}).", file=path,
                            line=_line_at(data, MAX_FILE_BYTES),
                            fix="a scenario describes zones, faults and checks in a few kilobytes; "
                                "give a large zone as its own zone file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"cannot read this file: byte {data[exc.start]:#04x} at byte offset {exc.start} is not "
                            "UTF-8 text.", file=path, line=_line_at(data, exc.start),
                            fix="save the file as UTF-8 text.") from None


def yaml_error(file: Path, exc: yaml.YAMLError, text: str = "") -> ScenarioError:
    """A PyYAML error as a ScenarioError at the line it names (or at its character offset)."""
    if isinstance(exc, yaml.reader.ReaderError):
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else f"byte {exc.character!r}"
        return ScenarioError(f"this is not valid YAML: the character {char} at offset {exc.position} is not "
                             "allowed in a YAML file (a control character or a non-character).",
                             file=file, line=_line_at(text, exc.position),
                             fix="remove it; write special characters as escapes in a double-quoted string.")
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        problem = exc.problem or "the YAML syntax is broken"
        if exc.context and exc.context_mark is not None:
            problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        return ScenarioError(f"this is not valid YAML: {problem}.", file=file, line=exc.problem_mark.line + 1,
                             fix=_YAML_FIX)
    return ScenarioError(f"this is not valid YAML: {exc}.", file=file, line=1, fix=_YAML_FIX)


def compose(path: Path, text: str) -> tuple[BoundedLoader, yaml.Node | None]:
    """The loader (for constructing values later; the caller disposes of it) and the file's single root node."""
    loader: BoundedLoader | None = None
    try:
        loader = BoundedLoader(text, path)
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        if loader is not None:
            loader.dispose()
        raise yaml_error(path, exc, text) from None
    except ValueError as exc:  # an escape naming no character, such as "\U00110000"
        line = loader.get_mark().line + 1 if loader is not None else 1
        if loader is not None:
            loader.dispose()
        raise ScenarioError(f"this is not valid YAML: an escape in a quoted string names no character ({exc}).",
                            file=path, line=line,
                            fix="fix or remove the escape (\\x.., \\u...., \\U........).") from None
    except ScenarioError:
        if loader is not None:
            loader.dispose()
        raise
    if root is not None:
        check_tree(path, root)
    return loader, root


def check_tree(path: Path, root: yaml.Node) -> None:
    """Bound the tree as if aliases were expanded, refuse cycles and scalars that are not characters.

    Walks each distinct node once (aliases share nodes), iteratively: the expanded size and depth of a node are
    computed from its children's, so a bomb is measured, never expanded."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children(node)
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_EXPANDED_NODES:
                raise ScenarioError(f"the aliases (*name) here expand to more than {MAX_EXPANDED_NODES} values.",
                                    file=path, line=node.start_mark.line + 1,
                                    fix="write the values out, or use fewer anchors and aliases.")
            if depth[key] > MAX_DEPTH:
                raise ScenarioError(f"through aliases, lists and mappings nest more than {MAX_DEPTH} levels here.",
                                    file=path, line=node.start_mark.line + 1,
                                    fix="use an alias for a value, not to nest a structure inside itself.")
            continue
        if key in size:
            continue
        if key in on_path:
            raise ScenarioError("an alias (*name) here refers to a list or mapping that contains it.",
                                file=path, line=node.start_mark.line + 1,
                                fix="an alias must name a value defined before it, outside itself.")
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(path, node)
            size[key], depth[key] = 1, 0
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_scalar(path: Path, node: yaml.ScalarNode) -> None:
    bad = _NON_CHARACTER.search(str(node.value))
    if bad is None:
        return
    char = bad.group()
    kind = "a lone surrogate, half of a UTF-16 pair" if "\ud800" <= char <= "\udfff" else "a control character"
    raise ScenarioError(f"the value {excerpt(str(node.value))} contains U+{ord(char):04X}, {kind}, which is not "
                        "allowed in a scenario.", file=path, line=node.start_mark.line + 1,
                        fix="remove the escape that produces it, or write the character itself.")
