"""Scenario files: the typed model (``model``) and the YAML loader that builds it (``loader``)."""

from testbed.scenario.loader import (
    IMPLIED_RCODES,
    FaultParams,
    load_paths,
    load_scenario,
    parse_duration,
    scenario_files,
)
from testbed.scenario.model import (
    OUTCOMES,
    ActionSignature,
    ActionSpec,
    Check,
    DenialKind,
    Expectation,
    FaultSignature,
    FaultSpec,
    KeyLayout,
    Nsec3Params,
    Outcome,
    Override,
    ParamType,
    Phase,
    Scenario,
    SigningSpec,
    Where,
    ZoneSpec,
)

__all__ = [
    "IMPLIED_RCODES", "OUTCOMES", "ActionSignature", "ActionSpec", "Check", "DenialKind", "Expectation",
    "FaultParams", "FaultSignature", "FaultSpec", "KeyLayout", "Nsec3Params", "Outcome", "Override", "ParamType",
    "Phase", "Scenario",
    "SigningSpec", "Where", "ZoneSpec", "load_paths", "load_scenario", "parse_duration", "scenario_files",
]
