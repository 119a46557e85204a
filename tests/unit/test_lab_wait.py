"""The lab's wait strategy: it follows a real process (alive? loading? log growing?) and says what is true when it
gives up. The hosts here are real local processes; no network."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.errors import LabError
from testbed.lab.backends.base import Host, HostSpec
from testbed.lab.lab import RELOAD_FAILED, RELOAD_LOGGED, ServerLoad
from testbed.lab.wait import Waited, wait_for


class LocalHost(Host):
    """A host that is a plain local process, its output in a file (as the netns backend keeps it)."""

    def __init__(self, tmp: Path, script: str) -> None:
        self.spec = HostSpec(name="local", address="127.0.0.1", argv=(sys.executable, "-c", script), folder=tmp,
                             image="none")
        self.log_path = tmp / "host.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.spec.argv, stdout=self._log, stderr=subprocess.STDOUT)

    def exec(self, argv: list[str], timeout: float = 10.0) -> tuple[int, str]:
        raise NotImplementedError

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text()

    def stop(self, timeout: float = 5.0) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout)
        self._log.close()


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[list[LocalHost]]:
    started: list[LocalHost] = []
    yield started
    for host in started:
        host.stop()


def start(hosts: list[LocalHost], tmp: Path, script: str) -> LocalHost:
    host = LocalHost(tmp, script)
    hosts.append(host)
    return host


def raise_with(waited: Waited) -> LabError:
    return LabError(f"exited={waited.exited} loading={waited.loading}")


def test_the_wait_ends_when_the_condition_holds(tmp_path: Path, hosts: list[LocalHost]) -> None:
    marker = tmp_path / "ready"
    host = start(hosts, tmp_path, f"import time, pathlib; time.sleep(0.3); pathlib.Path({str(marker)!r}).touch(); "
                                  "time.sleep(60)")
    assert wait_for(lambda: marker.exists() or None, host=host, failed=raise_with) is True


def test_a_process_that_exits_is_reported_as_exited_not_as_slow(tmp_path: Path, hosts: list[LocalHost]) -> None:
    host = start(hosts, tmp_path, "print('bad option: no-such-option', flush=True); raise SystemExit(2)")
    with pytest.raises(LabError, match="exited=True loading=False"):
        wait_for(lambda: None, host=host, failed=raise_with)
    assert "no-such-option" in host.log_text()


def test_a_host_still_loading_is_waited_for_and_then_reported_as_loading(tmp_path: Path,
                                                                         hosts: list[LocalHost]) -> None:
    host = start(hosts, tmp_path, "import time; time.sleep(60)")
    # quiet_s far below the limit: a host that says it is loading is not cut short by the quiet rule
    with pytest.raises(LabError, match="exited=False loading=True"):
        wait_for(lambda: None, host=host, loading=lambda log: True, quiet_s=0.05, limit=0.5, failed=raise_with)


def test_an_idle_host_that_never_meets_the_condition_is_reported_as_up(tmp_path: Path,
                                                                       hosts: list[LocalHost]) -> None:
    host = start(hosts, tmp_path, "import time; time.sleep(60)")
    with pytest.raises(LabError, match="exited=False loading=False"):
        wait_for(lambda: None, host=host, loading=lambda log: False, quiet_s=0.3, limit=60, failed=raise_with)


def test_a_growing_log_counts_as_progress(tmp_path: Path, hosts: list[LocalHost]) -> None:
    marker = tmp_path / "ready"
    # silent longer than quiet_s overall, but never between two lines: the wait goes on until the marker
    host = start(hosts, tmp_path, "import time, pathlib\nfor i in range(30):\n    print(i, flush=True); "
                                  f"time.sleep(0.1)\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)")
    assert wait_for(lambda: marker.exists() or None, host=host, quiet_s=2.0, limit=120, failed=raise_with) is True


def test_server_load_reads_start_and_reload_from_the_log() -> None:
    fresh = ServerLoad("child", reload=False, mark=0)
    assert fresh.loading("testbed.auth: listening on 10.53.0.3:53 (udp, tcp)\n")
    assert not fresh.loading("testbed.auth: listening on 10.53.0.3:53 (udp, tcp)\nREADY\n")
    restarted = ServerLoad("child", reload=False, mark=1)      # the old process's READY is still in the log
    assert restarted.loading("READY\ntestbed.auth: stopping\n")
    reload = ServerLoad("child", reload=True, mark=1)
    before = f"READY\n{RELOAD_LOGGED}/lab/config.json\n"
    assert reload.loading(before)
    assert not reload.loading(before + f"{RELOAD_LOGGED}/lab/config.json\n")


def test_a_failed_reload_is_the_only_case_that_blames_the_zones() -> None:
    reload = ServerLoad("child", reload=True, mark=0)
    log = f"READY\n{RELOAD_FAILED}, still serving the old data: example.jp.zone:3: bad SOA\n"
    with pytest.raises(LabError, match="failed to reload") as info:
        reload.loading(log)
    assert "example.jp.zone:3" in str(info.value)
