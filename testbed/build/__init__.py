"""Plan and build: a Scenario becomes a Topology (hosts, addresses, zones) and unsigned zones with their keys and DS;
``output`` writes a built scenario to a folder (``testbed build``).

May import: errors, clock, scenario, dnssec, resolvers. Never: faults, timeline, lab, run, report, cli.
"""
