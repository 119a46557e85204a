"""The fault registry. A fault is one function plus its metadata; adding a fault is adding one decorated function
to the module of its group (testbed/faults/<group>.py)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import dns.exception

from testbed.errors import ScenarioError
from testbed.scenario.model import Expectation, FaultSignature, ParamKind, ParamType, Scenario

if TYPE_CHECKING:
    from testbed.build.zones import BuildContext

Layer = Literal["zone", "keys", "signed", "server", "network", "clock"]
LAYER_ORDER: tuple[Layer, ...] = ("zone", "keys", "signed", "server", "network", "clock")
Apply = Callable[["BuildContext", dict[str, Any]], None]


@dataclass(frozen=True)
class Param:
    """One parameter of a fault as its registration declares it: what it means (for the catalog) and its type
    (for the loader, so ``testbed validate`` refuses a value the fault could not use)."""

    help: str
    type: ParamType


def param(help: str, kind: ParamKind, *, low: float | None = None, high: float | None = None,
          choices: tuple[str, ...] = (), exclude: tuple[int, ...] = (), one_of: tuple[int, ...] = (),
          all_word: bool = False) -> Param:
    return Param(help, ParamType(kind, low=low, high=high, choices=choices, exclude=exclude, one_of=one_of,
                                 all_word=all_word))


# Parameters that mean the same thing in every fault that takes them. A registration may give such a parameter as
# plain help text and it gets this type; any other parameter must be declared with param(...).
COMMON_TYPES: dict[str, ParamType] = {
    "zone": ParamType("zone"),
    "signer_zone": ParamType("zone"),
    "server": ParamType("server"),
    "rrset": ParamType("rrset"),
    "name": ParamType("name"),
    "child": ParamType("name"),
    "keep_ds": ParamType("bool"),
    "denial": ParamType("choice", choices=("nsec", "nsec3")),
}


@dataclass(frozen=True)
class Fault:
    id: str
    group: str
    summary: str
    layer: Layer
    reference: str
    apply: Apply
    params: dict[str, str] = field(default_factory=dict)      # parameter name -> what it means
    types: dict[str, ParamType] = field(default_factory=dict)  # parameter name -> its type, checked by the loader
    required: tuple[str, ...] = ()
    expect: Expectation | None = None
    cases: tuple[str, ...] = ()       # fault-catalog.md case ids this fault implements, e.g. ("SIG-01",)

    def to_json(self) -> dict[str, Any]:
        exp = self.expect
        return {"id": self.id, "group": self.group, "summary": self.summary, "layer": self.layer,
                "reference": self.reference, "params": self.params, "required": list(self.required),
                "param_types": {name: ptype.describe() for name, ptype in self.types.items()},
                "cases": list(self.cases),
                "expect": None if exp is None else {"outcome": exp.outcome, "rcode": exp.rcode,
                                                    "ede": None if exp.ede is None else list(exp.ede)}}


_FAULTS: dict[str, Fault] = {}
_LOADED = False


def _typed(fault_id: str, params: Mapping[str, str | Param]) -> tuple[dict[str, str], dict[str, ParamType]]:
    helps: dict[str, str] = {}
    types: dict[str, ParamType] = {}
    for name, spec in params.items():
        if isinstance(spec, Param):
            helps[name], types[name] = spec.help, spec.type
        elif name in COMMON_TYPES:
            helps[name], types[name] = spec, COMMON_TYPES[name]
        else:
            raise ValueError(f"fault {fault_id!r}: parameter {name!r} has no type; declare it with param(...)")
    return helps, types


def fault(id: str, *, group: str, summary: str, layer: Layer, reference: str,
          params: Mapping[str, str | Param] | None = None, required: tuple[str, ...] = (),
          expect: Expectation | None = None, cases: tuple[str, ...] = ()) -> Callable[[Apply], Apply]:
    """Register the decorated function as fault ``id``. Each parameter is a ``Param`` (help and type) or, for
    the parameters of ``COMMON_TYPES``, its help text alone."""
    helps, types = _typed(id, params or {})
    unknown = [p for p in required if p not in helps]
    if unknown:
        raise ValueError(f"fault {id!r} requires {unknown}, which it does not declare")

    def register(fn: Apply) -> Apply:
        if id in _FAULTS:
            raise ValueError(f"fault {id!r} registered twice")
        _FAULTS[id] = Fault(id=id, group=group, summary=summary, layer=layer, reference=reference, apply=fn,
                            params=helps, types=types, required=required, expect=expect, cases=cases)
        return fn

    return register


def variant(id: str, *, of: str, summary: str, preset: dict[str, Any], cases: tuple[str, ...] = (),
            expect: Expectation | None = None, reference: str | None = None) -> None:
    """Register fault ``id``: fault ``of`` with some parameters fixed, so that one catalog case is one id.

    The base keeps serving scenarios that want to set those parameters themselves; a scenario that uses the
    variant can still give the parameters the variant leaves open (the zone, say)."""
    if of not in _FAULTS:
        raise ValueError(f"variant {id!r} of unknown fault {of!r}: register the base first")
    base = _FAULTS[of]
    unknown = set(preset) - set(base.params)
    if unknown:
        raise ValueError(f"variant {id!r} presets {sorted(unknown)}, which fault {of!r} does not take")

    def apply(ctx: BuildContext, params: dict[str, Any]) -> None:
        base.apply(ctx, {**preset, **params})

    fault(id, group=base.group, summary=summary, layer=base.layer, reference=reference or base.reference,
          params={k: Param(v, base.types[k]) for k, v in base.params.items() if k not in preset},
          required=tuple(p for p in base.required if p not in preset), expect=expect or base.expect,
          cases=cases)(apply)


def registry() -> dict[str, Fault]:
    """Every fault, by id, loading each group module of this package once."""
    global _LOADED
    if not _LOADED:
        package = importlib.import_module("testbed.faults")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name != "registry":
                importlib.import_module(f"testbed.faults.{module.name}")
        _LOADED = True
    return dict(sorted(_FAULTS.items()))


def fault_params() -> dict[str, FaultSignature]:
    """Fault id -> the parameters a scenario may give it, with their types and which are required (for the
    scenario loader)."""
    return {fid: FaultSignature(params=dict(f.types), required=f.required) for fid, f in registry().items()}


def apply_faults(ctx: BuildContext, scenario: Scenario, layer: Layer) -> None:
    """Apply the scenario's faults of ``layer`` to the build, in the order the scenario lists them; an error
    without a place points at the fault's line in the scenario file."""
    faults = registry()
    for spec in scenario.faults:
        fault = faults[spec.fault]
        if fault.layer != layer:
            continue
        missing = [p for p in fault.required if p not in spec.params]
        if missing:
            where = spec.where
            raise ScenarioError(f"fault {spec.fault} needs parameter(s): {', '.join(missing)}",
                                file=where.file if where else scenario.file, line=where.line if where else None,
                                fix=f"add {missing[0]}: ... to the fault (see `testbed faults`)")
        try:
            fault.apply(ctx, dict(spec.params))
        except ScenarioError as exc:
            if exc.file is None and spec.where is not None:
                exc.file, exc.line = str(spec.where.file), spec.where.line
            raise
        except (ValueError, KeyError, TypeError, ArithmeticError, dns.exception.DNSException) as exc:
            # A value its declared type let through but the fault cannot use: still the user's file and line.
            where = spec.where
            raise ScenarioError(f"fault {spec.fault} cannot be applied with these parameters: {exc}",
                                file=where.file if where else scenario.file, line=where.line if where else None,
                                fix="check the fault's parameters against 'testbed faults'") from exc
