"""The registry side of the lab: a parental agent that checks submitted DS records (``submit-ds`` under
``acceptance: strict``) and scans children's CDS/CDNSKEY (``registry-scan``), under named policies.

``policy`` holds the policies, ``fetch`` asks the child's name servers over DNS in the lab, ``agent`` checks a DS
against the live DNSKEY RRset, ``scan`` decides on CDS/CDNSKEY, ``events`` records every decision for the reports.
See docs/registry.md.
"""

from testbed.registry.events import RegistryEvent
from testbed.registry.policy import POLICIES, RegistryPolicy, get_policy

__all__ = ["POLICIES", "RegistryEvent", "RegistryPolicy", "get_policy"]
