"""``testbed build``: everything a lab would serve and configure, written to a folder, nothing started."""

from __future__ import annotations

import json
from pathlib import Path

from testbed.build.zones import BuildContext, zone_file_name
from testbed.dnssec import key_to_files
from testbed.resolvers import ResolverContext, get_adapter
from testbed.resolvers.base import write_rendered


def write_build(ctx: BuildContext, out: Path, resolvers: list[str]) -> list[str]:
    """Write a built scenario (``timeline.build.build_scenario``: signed, faults applied): zones/, keys/, ds/,
    trust-anchor.*, resolvers/."""
    topology = ctx.topology
    written: list[str] = []
    for sub in ("zones", "keys", "ds", "resolvers"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for name, zone in ctx.zones.items():
        path = out / "zones" / zone_file_name(name)
        zone.write_file(path)
        written.append(str(path))
        for key in zone.keys:
            written += [str(p) for p in key_to_files(key, out / "keys")]
        ds = zone.ds_records()
        if ds:
            ds_path = out / "ds" / f"dsset-{name if name != '.' else 'root.'}"
            ds_path.write_text("".join(f"{name} 3600 IN DS {d.to_text()}\n" for d in ds))
            written.append(str(ds_path))
    anchor = ctx.trust_anchor_ds()
    (out / "trust-anchor.ds").write_text("\n".join(anchor) + "\n")
    (out / "trust-anchor.dnskey").write_text("\n".join(ctx.trust_anchor_dnskey()) + "\n")
    written += [str(out / "trust-anchor.ds"), str(out / "trust-anchor.dnskey")]
    servers = {s.name: {"address": topology.server_address(s.name), "zones": list(s.zones)}
               for s in topology.servers.values()}
    (out / "servers.json").write_text(json.dumps(servers, indent=1))
    written.append(str(out / "servers.json"))
    for name in resolvers:
        adapter = get_adapter(name)
        folder = (out / "resolvers" / name).resolve()
        ctx_r = ResolverContext(address=topology.resolver_address(name), subnet=str(topology.subnet),
                                folder=folder, root_hints=tuple(topology.root_hints), trust_anchor_ds=tuple(anchor))
        files = adapter.render(ctx_r)
        write_rendered(adapter, folder, files)          # an rndc key as a 0600 file
        written += [str(folder / rel) for rel in files]
    return written
