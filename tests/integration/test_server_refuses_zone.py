"""A real server that refuses a zone nobody's fault broke: the user's own data is bad input, exit 2, the server's
own words quoted, no lab left. A zone a fault broke stays the fault's finding (error verdicts: docs/servers.md).

Cost: two single-check runs with BIND and Unbound on netns, about 4 s each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testbed.cli.main import main
from testbed.errors import LabError
from testbed.lab.lab import Lab
from testbed.run.runner import run
from testbed.run.select import known_names
from testbed.scenario import load_scenario
from tests.conftest import requires_netns

pytestmark = [pytest.mark.integration, requires_netns,
              pytest.mark.skipif(shutil.which("named") is None or shutil.which("unbound") is None,
                                 reason="named or unbound is not installed (scripts/setup.sh)")]

# BIND refuses a CDS RRset that mixes the delete record with a real one (RFC 8078 section 4)
OWN_RECORDS = """\
name: bind-refuses-own-records
summary: example.jp.'s own records mix a CDS delete record with a real CDS; no fault touches the zone
zones:
  example.jp.:
    server: bind
    records: ["@ 300 CDS 0 0 0 00", "@ 300 CDS 12345 13 2 {digest}"]
checks:
  - query: www.example.jp. A
    expect: secure
""".format(digest="00" * 32)


def test_a_zone_the_server_refuses_without_a_fault_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text(OWN_RECORDS)
    labs: list[Lab] = []
    with pytest.raises(LabError) as info:
        run([load_scenario(path, **known_names())], ["unbound"], "netns", on_lab=labs.append)
    message = str(info.value)
    assert not message.startswith("the server sanitised the fault")
    assert "refused to load zone example.jp." in message
    assert "CDS/CDNSKEY consistency checks failed" in message        # BIND's own words
    assert info.value.file == str(path) and info.value.fix
    assert labs and all(lab.what_exists() == [] for lab in labs)


def test_the_cli_exits_2_on_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text(OWN_RECORDS)
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "--resolver", "unbound", "--backend", "netns"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: " in err and '"' in err and "not loaded due to errors" in err
    assert "Traceback" not in err
