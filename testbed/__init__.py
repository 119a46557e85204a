"""dnssec-testbed: rehearse DNSSEC deployments against real validating resolvers."""

__version__ = "0.1.0"
