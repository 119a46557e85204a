"""Bring your own resolver image: a second Unbound image built under a vendor's own tag runs through the same
adapter, reported under its own name, with Unbound's documented divergences still applying."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed.lab.backends.docker_env import docker_available
from tests.conftest import QUICKSTART, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.docker,
              pytest.mark.skipif(not docker_available(), reason="needs a running Docker daemon")]

VENDOR_TAG = "testbed-vendor/unbound:dev"


@pytest.fixture(scope="module")
def vendor_image() -> str:
    # a real second build from the recipe, under a tag that is not ours: what a vendor's CI would hand us
    proc = subprocess.run(["docker", "build", "-q", "-t", VENDOR_TAG, str(ROOT / "compose" / "unbound")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    yield VENDOR_TAG
    subprocess.run(["docker", "rmi", VENDOR_TAG], capture_output=True, timeout=120)


def test_vendor_image_runs_the_quickstart_as_documented(vendor_image: str, tmp_path) -> None:
    out = tmp_path / "byo.json"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART / "secure-a.yaml"),
                           str(QUICKSTART / "expired-rrsig.yaml"), "--backend", "docker",
                           "--resolver", f"unbound:image={vendor_image},name=unbound-vendor", "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    # fields are only ever added to the JSON (DESIGN.md): judge the ones this test is about
    (entry,) = doc["resolvers"]
    assert {k: entry[k] for k in ("name", "software", "version")} == {"name": "unbound-vendor", "software": "unbound",
                                                                       "version": "1.17.1"}
    assert {r["resolver"] for r in doc["results"]} == {"unbound-vendor"}
    assert doc["summary"]["fail"] == 0 and doc["summary"]["error"] == 0
    expired = next(r for r in doc["results"] if r["scenario"] == "expired-rrsig"
                   and r["query"].startswith("www."))
    assert expired["outcome"] == "bogus" and [e["code"] for e in expired["observed"]["ede"]] == [7]


def test_an_image_that_is_not_there_is_a_clear_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "testbed.cli.main", "run", str(QUICKSTART / "secure-a.yaml"),
                           "--backend", "docker", "--resolver", "unbound:image=testbed-vendor/nothing:here"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert "testbed-vendor/nothing:here" in proc.stderr and "Traceback" not in proc.stderr
