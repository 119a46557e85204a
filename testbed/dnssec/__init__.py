"""Our own DNSSEC signer: keys, RRset and zone signing with NSEC or NSEC3, and a fast zone-file path.

dnspython handles names, records and zone text; canonical wire form, the NSEC/NSEC3 chains and the crypto calls are
our own hot path (see ``engine.py`` and ``crypto.py``).
"""

from testbed.dnssec.keys import Key, generate_key, key_to_files, make_ds
from testbed.dnssec.sign import SignOptions, nsec3_hash, sign_rrset, sign_zone
from testbed.dnssec.zonefile import SignStats, sign_zone_file

__all__ = ["Key", "SignOptions", "SignStats", "generate_key", "key_to_files", "make_ds", "nsec3_hash", "sign_rrset",
           "sign_zone", "sign_zone_file"]
