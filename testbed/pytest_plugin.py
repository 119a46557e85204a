"""pytest plugin: exposes dnssec-testbed labs as fixtures (filled in with the lab API)."""
