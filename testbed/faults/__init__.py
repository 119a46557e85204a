"""Named fault injectors, one module per group. See registry.py."""

from testbed.faults.registry import Fault, fault, fault_params, registry

__all__ = ["Fault", "fault", "fault_params", "registry"]
