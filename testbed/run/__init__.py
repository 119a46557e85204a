"""Running scenarios: the runner, the probe that queries resolvers, observations and the checks that judge them.

May import: every stage before it (scenario, build, dnssec, faults, lab, resolvers, timeline). Never: cli.
"""
