"""Each adapter's config for each generation is accepted by that generation's own config checker, run inside the
resolver's image (named-checkconf, unbound-checkconf, pdns_recursor --config=check). Knot Resolver 5 has no
checker: its configs are proven by the labs that start it (the quickstart on docker)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testbed.lab import images
from testbed.lab.backends.docker_env import docker_available
from testbed.resolvers import registry
from testbed.resolvers.base import ResolverContext
from testbed.resolvers.generations import GENERATIONS
from testbed.resolvers.profiles import PROFILES

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="needs a running Docker daemon")]

CHECKERS = {
    "bind": ["named-checkconf", "{folder}/named.conf"],
    "unbound": ["unbound-checkconf", "{folder}/unbound.conf"],
    "pdns": ["pdns_recursor", "--config-dir={folder}", "--config=check"],
}
DS = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"


@pytest.mark.parametrize("generation", list(GENERATIONS))
@pytest.mark.parametrize("software", sorted(CHECKERS))
@pytest.mark.parametrize("managed", [False, True])
@pytest.mark.parametrize("profile", PROFILES)
def test_config_passes_the_daemons_own_checker(software: str, generation: str, managed: bool, profile: str,
                                               tmp_path: Path) -> None:
    cls = registry()[software]
    if managed and not cls.supports_managed_anchor:
        pytest.skip(f"{software} has no RFC 5011 anchor")
    if managed and profile != "defaults":
        pytest.skip("a profile's knobs do not touch the anchor: checked once, with a static anchor")
    adapter = cls.for_generation(generation)
    adapter.profile = profile
    tag = images.image_tag(adapter.image)
    if subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode != 0:
        pytest.skip(f"image {tag} is not built (testbed images build --generation {generation})")
    folder = tmp_path / software
    folder.mkdir()
    ctx = ResolverContext(address="10.53.0.101", subnet="10.53.0.0/24", folder=folder,
                          root_hints=(("a.root-servers.test.", "10.53.0.2"),), trust_anchor_ds=(DS,),
                          managed_anchor=managed)
    for rel, text in adapter.render(ctx).items():
        (folder / rel).write_text(text)
    argv = [word.replace("{folder}", str(folder)) for word in CHECKERS[software]]
    proc = subprocess.run(["docker", "run", "--rm", "--network", "none", "-v", f"{tmp_path}:{tmp_path}", tag, *argv],
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # a checker that accepts a config with deprecated options still says so: keep the configs free of them
    assert "deprecated" not in out.lower() and "obsolete" not in out.lower(), out
