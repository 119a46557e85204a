"""Bring your own resolver: a registered adapter's config with another image, another binary, or other commands.

``parse_resolver_spec`` turns what a person types after ``--resolver`` into an adapter:

  ``unbound``                                  the registered adapter, unchanged
  ``unbound:image=myorg/unbound:dev``          the same config and commands, run in another docker image
  ``unbound:binary=/opt/unbound/sbin/unbound`` the same config, another daemon binary (netns backend)
  ``unbound:binary=/opt/u/sbin/unbound,name=unbound-dev``   options combine; ``name`` sets the result label
  ``path/to/adapter.yaml``                     an adapter file (below)

Adapter file::

    name: unbound-dev                  # optional, default: the base's name; labels results and hosts
    base: unbound                      # required: the registered adapter whose config is rendered
    image: myorg/unbound:dev           # optional: the docker image
    binary: /opt/unbound/sbin/unbound  # optional: the daemon (netns); also {binary} below
    command: ["{binary}", "-dd", "-c", "{folder}/unbound.conf"]            # optional argv lists; placeholders:
    flush: ["/opt/unbound/sbin/unbound-control", "-c", "{folder}/unbound.conf", "reload"]   # {binary} {folder}
    version: ["{binary}", "-V"]                                            # {address} {subnet}
    version_pattern: 'Version (\\S+)'   # optional: regex whose group 1 is the version

Config rendering (the part that keeps real roots and real trust anchors out) always comes from the base adapter,
so a custom resolver gets the same isolation guarantees as the built-in one. With only ``binary`` given, the
base's own command and flush are kept: the daemon in argv[0] is swapped for the new binary, and a control tool
(unbound-control, rndc, rec_control) is taken from the new binary's folder when one is there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testbed.daemon import parse_version
from testbed.errors import ScenarioError
from testbed.resolvers import registry
from testbed.resolvers.base import ResolverAdapter, ResolverContext

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
INLINE_KEYS = ("image", "binary", "name")
FILE_KEYS = ("name", "base", "display_name", "image", "binary", "command", "flush", "version", "version_pattern")
PLACEHOLDERS = ("binary", "folder", "address", "subnet")
# Anything that looks like a placeholder ({word}); braces with spaces or symbols inside (Lua, perl, shell) do not.
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
EXAMPLE = ("unbound, unbound:image=myorg/unbound:dev, unbound:binary=/opt/unbound/sbin/unbound, "
           "or a path to an adapter .yaml file")


@dataclass(frozen=True)
class CustomSpec:
    """What differs from the base adapter. ``None``/empty fields keep the base's behaviour."""

    name: str
    base: str
    origin: str                                   # the spec text or file it came from, for messages
    display_name: str | None = None
    image: str | None = None
    binary: str | None = None
    command: tuple[str, ...] = ()
    flush: tuple[str, ...] = ()
    version: tuple[str, ...] = ()
    version_pattern: str | None = None


def parse_resolver_spec(text: str) -> ResolverAdapter:
    """``NAME``, ``NAME:key=value[,key=value]`` or a path to an adapter YAML file -> an adapter instance.

    Raises ScenarioError (with file/line for adapter files) naming the problem and the fix.
    """
    text = text.strip()
    if not text:
        raise ScenarioError("empty resolver name", fix=f"use {EXAMPLE}")
    name, sep, options = text.partition(":")
    adapters = registry()
    if name not in adapters:
        path = Path(text).expanduser()
        if text.endswith((".yaml", ".yml")) or "/" in text or path.is_file():
            return build_adapter(load_adapter_file(path))
        raise ScenarioError(f"unknown resolver {name!r} in --resolver {text!r}",
                            fix=f"use one of: {', '.join(adapters)}; or a path to an adapter .yaml file")
    if not sep:
        return adapters[name]()
    return build_adapter(_parse_inline(name, options, text))


def _parse_inline(base: str, options: str, text: str) -> CustomSpec:
    values: dict[str, str] = {}
    # split on commas only: image references contain ':' and '/', never ','
    for item in options.split(","):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in INLINE_KEYS:
            raise ScenarioError(f"cannot read {item!r} in --resolver {text!r}",
                                fix=f"write {base}:KEY=VALUE with KEY one of {', '.join(INLINE_KEYS)}, "
                                    f"e.g. {base}:image=myorg/{base}:dev")
        if not value:
            raise ScenarioError(f"{key}= has no value in --resolver {text!r}", fix=f"e.g. {base}:{key}=...")
        if key in values:
            raise ScenarioError(f"{key}= is given twice in --resolver {text!r}", fix="keep one")
        values[key] = value
    name = values.get("name", base)
    if not NAME_RE.match(name):
        raise ScenarioError(f"resolver name {name!r} in --resolver {text!r} is not usable as a host name",
                            fix="use lower-case letters, digits, '-' and '_', starting with a letter, at most 32")
    return CustomSpec(name=name, base=base, origin=f"--resolver {text}", image=values.get("image"),
                      binary=values.get("binary"))


# ---- adapter files --------------------------------------------------------------------------------------------
def load_adapter_file(path: Path) -> CustomSpec:
    """Read and check an adapter YAML file; every problem is reported with its line."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError("no such adapter file", file=path,
                            fix=f"check the path, or use a registered resolver name ({', '.join(registry())})"
                            ) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the adapter file: {exc.strerror}", file=path) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(f"this is not valid YAML: {getattr(exc, 'problem', None) or exc}", file=path,
                            line=mark.line + 1 if mark else None,
                            fix="check indentation, colons after keys and quoting") from None
    reader = _FileReader(path)
    if not isinstance(root, yaml.MappingNode):
        reader.fail(root, "an adapter file must be a mapping of keys (name, base, image, binary, command, ...)",
                    "start from the example in testbed/resolvers/custom.py or docs/resolvers.md")
    fields: dict[str, yaml.Node] = {}
    keys: dict[str, yaml.Node] = {}
    for key_node, value_node in root.value:
        key = reader.scalar(key_node, "a key")
        if key not in FILE_KEYS:
            reader.fail(key_node, f"unknown key {key!r}", f"use only: {', '.join(FILE_KEYS)}")
        if key in fields:
            reader.fail(key_node, f"{key!r} appears twice", "keep one")
        fields[key], keys[key] = value_node, key_node

    if "base" not in fields:
        reader.fail(root, "no 'base'", f"add base: NAME with NAME one of {', '.join(registry())}: the adapter "
                                       "whose config (root hints, trust anchor, validation) is rendered")
    base = reader.scalar(fields["base"], "'base'")
    if base not in registry():
        reader.fail(fields["base"], f"unknown base adapter {base!r}", f"use one of: {', '.join(registry())}")
    name = reader.scalar(fields["name"], "'name'") if "name" in fields else base
    if not NAME_RE.match(name):
        reader.fail(fields.get("name", root), f"resolver name {name!r} is not usable as a host name",
                    "use lower-case letters, digits, '-' and '_', starting with a letter, at most 32")

    def optional(key: str) -> str | None:
        return reader.scalar(fields[key], repr(key)) if key in fields else None

    def argv(key: str) -> tuple[str, ...]:
        return reader.argv(fields[key], repr(key)) if key in fields else ()

    pattern = optional("version_pattern")
    if pattern is not None:
        try:
            if re.compile(pattern).groups < 1:
                reader.fail(fields["version_pattern"], "'version_pattern' has no group",
                            r"put the version in parentheses, e.g. 'Version (\S+)'")
        except re.error as exc:
            reader.fail(fields["version_pattern"], f"'version_pattern' is not a regular expression: {exc}",
                        r"e.g. 'Version (\S+)'")
    return CustomSpec(name=name, base=base, origin=str(path), display_name=optional("display_name"),
                      image=optional("image"), binary=optional("binary"), command=argv("command"),
                      flush=argv("flush"), version=argv("version"), version_pattern=pattern)


class _FileReader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node, message: str, fix: str) -> None:
        raise ScenarioError(message, file=self.path, line=node.start_mark.line + 1, fix=fix)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.fail(node, f"{what} must be a non-empty text value", "write it as key: value on one line")
        return str(node.value).strip()

    def argv(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, f"{what} must be a non-empty list (an argv, one word per item)",
                      'write e.g. ["{binary}", "-c", "{folder}/unbound.conf"]; no shell is involved')
        words = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                self.fail(item, f"each item of {what} must be a single word", "quote it if it has spaces")
            for placeholder in PLACEHOLDER_RE.findall(str(item.value)):
                if placeholder not in PLACEHOLDERS:
                    self.fail(item, f"unknown placeholder {{{placeholder}}} in {what}",
                              f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
            words.append(str(item.value))
        return tuple(words)


# ---- building the adapter -------------------------------------------------------------------------------------
def expand(argv: tuple[str, ...], ctx: ResolverContext, binary: str) -> list[str]:
    """Fill {binary} {folder} {address} {subnet}; other braces (Lua, perl) are left alone."""
    values = {"binary": binary, "folder": str(ctx.folder), "address": ctx.address, "subnet": ctx.subnet}
    return [PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), word) for word in argv]


# for commands run outside any lab (version, availability): only {binary} means anything there
_EMPTY_CTX = ResolverContext(address="", subnet="", folder=Path("."), root_hints=(), trust_anchor_ds=())


class _Customised:
    """Mixed in front of a registered adapter class: overrides only what the spec changes.

    Not a ResolverAdapter subclass itself, so the registry (which collects adapter classes from every module in
    this package) never mistakes it for an adapter.
    """

    spec: CustomSpec
    base_name: str
    base_binary: str
    binary: str

    def command(self, ctx: ResolverContext) -> list[str]:
        if self.spec.command:
            return expand(self.spec.command, ctx, self.binary)
        return self._swap_daemon(super().command(ctx))  # type: ignore[misc]

    def flush_command(self, ctx: ResolverContext) -> list[str]:
        if self.spec.flush:
            return expand(self.spec.flush, ctx, self.binary)
        argv = list(super().flush_command(ctx))  # type: ignore[misc]
        if self.spec.binary and "/" in self.spec.binary and argv and "/" not in argv[0]:
            # a private build usually keeps its control tool beside the daemon (/opt/x/sbin/unbound-control)
            sibling = Path(self.spec.binary).parent / argv[0]
            if sibling.is_file():
                argv[0] = str(sibling)
        return argv

    def local_version(self) -> str:
        if not self.spec.version:
            return super().local_version()  # type: ignore[misc]
        try:
            proc = subprocess.run(expand(self.spec.version, _EMPTY_CTX, self.binary), capture_output=True, text=True,
                                  timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return parse_version(proc.stdout + proc.stderr, self.version_pattern)  # type: ignore[attr-defined]

    def available_locally(self) -> bool:
        program = expand(self.spec.command, _EMPTY_CTX, self.binary)[0] if self.spec.command else self.binary
        return shutil.which(program) is not None

    def _swap_daemon(self, argv: list[str]) -> list[str]:
        # Some adapters write their daemon's name literally rather than self.binary: swap it either way.
        if self.spec.binary and argv and Path(argv[0]).name == Path(self.base_binary).name:
            argv = [self.spec.binary, *argv[1:]]
        return argv



def build_adapter(spec: CustomSpec) -> ResolverAdapter:
    """An instance of a one-off subclass of the base adapter carrying the spec's changes."""
    base_cls = registry()[spec.base]
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"{base_cls.display_name} from {spec.origin}",
        "spec": spec,
        "name": spec.name,
        "base_name": base_cls.name,                 # the software family: overrides for it still apply
        "base_binary": base_cls.binary,
        "display_name": spec.display_name or base_cls.display_name,
    }
    if spec.image:
        attrs["image"] = spec.image
    if spec.binary:
        attrs["binary"] = spec.binary
    if spec.version_pattern:
        attrs["version_pattern"] = spec.version_pattern
    cls = type(f"Custom{base_cls.__name__}", (_Customised, base_cls), attrs)
    adapter: ResolverAdapter = cls()
    return adapter
