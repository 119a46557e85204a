"""Plan and build: a Scenario on a topology preset becomes zones, signed, with keys, DS sets and a trust anchor.

May import: errors, clock, scenario, dnssec. Never: lab, run, report, cli.
"""
