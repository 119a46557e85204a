"""The fault registry. A fault is one function plus its metadata; adding a fault is adding one decorated function
to the module of its group (testbed/faults/<group>.py)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from testbed.errors import ScenarioError
from testbed.scenario.model import Expectation, Scenario

if TYPE_CHECKING:
    from testbed.build.zones import BuildContext

Layer = Literal["zone", "keys", "signed", "server", "network", "clock"]
LAYER_ORDER: tuple[Layer, ...] = ("zone", "keys", "signed", "server", "network", "clock")
Apply = Callable[["BuildContext", dict[str, Any]], None]


@dataclass(frozen=True)
class Fault:
    id: str
    group: str
    summary: str
    layer: Layer
    reference: str
    apply: Apply
    params: dict[str, str] = field(default_factory=dict)      # parameter name -> what it means
    required: tuple[str, ...] = ()
    expect: Expectation | None = None
    cases: tuple[str, ...] = ()       # fault-catalog.md case ids this fault implements, e.g. ("SIG-01",)

    def to_json(self) -> dict[str, Any]:
        exp = self.expect
        return {"id": self.id, "group": self.group, "summary": self.summary, "layer": self.layer,
                "reference": self.reference, "params": self.params, "required": list(self.required),
                "cases": list(self.cases),
                "expect": None if exp is None else {"outcome": exp.outcome, "rcode": exp.rcode,
                                                    "ede": None if exp.ede is None else list(exp.ede)}}


_FAULTS: dict[str, Fault] = {}
_LOADED = False


def fault(id: str, *, group: str, summary: str, layer: Layer, reference: str,
          params: dict[str, str] | None = None, required: tuple[str, ...] = (),
          expect: Expectation | None = None, cases: tuple[str, ...] = ()) -> Callable[[Apply], Apply]:
    """Register the decorated function as fault ``id``."""

    def register(fn: Apply) -> Apply:
        if id in _FAULTS:
            raise ValueError(f"fault {id!r} registered twice")
        _FAULTS[id] = Fault(id=id, group=group, summary=summary, layer=layer, reference=reference, apply=fn,
                            params=dict(params or {}), required=required, expect=expect, cases=cases)
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
          params={k: v for k, v in base.params.items() if k not in preset},
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


def fault_params() -> dict[str, set[str]]:
    """Fault id -> the parameter names a scenario may give it (for the scenario loader)."""
    return {fid: set(f.params) for fid, f in registry().items()}


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
