"""One reader per section of a scenario file (zones, faults, checks and overrides, phases and actions, resolvers).

Each turns its part of PyYAML's node tree into model objects and owns its error messages; ``base`` holds what they
share (the file, line tracking, primitive values). Readers import only ``testbed.scenario.model`` and each other.
"""
