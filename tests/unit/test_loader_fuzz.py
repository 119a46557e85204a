"""Hostile and mutated scenario files never crash or hang ``testbed validate`` (issue 9).

Seeded, bounded: 2,000 mutants of the bundled scenarios (half byte-level, half structure-level, see
scenario_mutants.py) plus every hostile case that once gave a traceback or a hang. Each goes through the validate
command in-process; a mutant that validates is also built (plan, sign, apply faults: no lab), since validate
promises what build would find. The outcome must be success or a TestbedError naming the mutant's file and a
line; anything else (a traceback) fails the test with the mutant's name, which rebuilds it: ``mutants(seed, n)``.

A hard alarm of 5 s per validate guards against hangs (60 s for the build, which may make RSA-4096 keys); it is a
hang guard, not a speed assertion. Cost: about 13 s of one core for this file (2,000 mutants, ~260 of which
validate and are built); set TESTBED_FUZZ_MUTANTS and TESTBED_FUZZ_SEED to explore further.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click
import pytest

from testbed.build.topology import plan
from testbed.build.zones import KeyStore
from testbed.cli.main import cli
from testbed.clock import LabClock
from testbed.errors import TestbedError
from testbed.scenario import load_scenario
from testbed.timeline.build import build_scenario
from tests.unit.scenario_mutants import HOSTILE, hostile, mutants

SEED = int(os.environ.get("TESTBED_FUZZ_SEED", "20261204"))
COUNT = int(os.environ.get("TESTBED_FUZZ_MUTANTS", "2000"))
HANG_SECONDS = 5
# Building may make real keys (two RSA-4096 KSKs for dnskey-rrset-large take seconds on a loaded machine): the
# build of a mutant that validated gets its own, looser guard; the 5 s one is for validate.
BUILD_HANG_SECONDS = 60


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in the code under test swallows it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def _validate(path: Path) -> None:
    """``testbed validate PATH`` as the CLI runs it, minus the process: TestbedError is what main() prints."""
    cli.main(args=["validate", str(path)], prog_name="testbed", standalone_mode=False)


BUILT: list[str] = []  # the mutants that validated and were built, so the test can tell the fuzz reaches the build


def _outcome(path: Path, keys: KeyStore) -> str | None:
    """None when the mutant validated (and built) or was refused properly; otherwise what went wrong."""
    try:
        _validate(path)
    except TestbedError as exc:
        if exc.file != str(path) or not exc.line:
            return f"error without file:line: {exc}"
        if not exc.fix:
            return f"error without a fix: {exc}"
        return None
    except click.exceptions.Exit as exc:
        return None if exc.exit_code == 0 else f"exit {exc.exit_code}"
    except Hang:
        raise
    except BaseException as exc:  # noqa: BLE001  # any other exception is the traceback a user would see
        return "traceback: " + _where(exc)
    # It validated: build it too (what validate vouches for must not crash the build).
    signal.setitimer(signal.ITIMER_REAL, BUILD_HANG_SECONDS)
    scenario = load_scenario(path, **_known())
    try:
        build_scenario(scenario, plan(scenario, ["unbound"]), LabClock(), keys, 1)
    except TestbedError as exc:
        return None if exc.file and exc.line else f"build error without file:line: {exc}"
    except Hang:
        raise
    except BaseException as exc:  # noqa: BLE001
        return "build traceback: " + _where(exc)
    BUILT.append(path.name)
    return None


def _where(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1]
    return "".join(traceback.format_exception_only(exc)).strip()[:300] + f" (at {last.filename}:{last.lineno})"


_KNOWN: dict | None = None


def _known() -> dict:
    global _KNOWN
    if _KNOWN is None:
        from testbed.cli.main import known_names
        _KNOWN = known_names()
    return _KNOWN


def _run(cases: Iterator[tuple[str, bytes]], folder: Path) -> tuple[int, list[str]]:
    keys = KeyStore()
    previous = signal.signal(signal.SIGALRM, _alarm)
    problems: list[str] = []
    count = 0
    try:
        for name, data in cases:
            count += 1
            path = folder / f"{name}.yaml"
            path.write_bytes(data)
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                problem = _outcome(path, keys)
            except Hang:
                problem = f"no answer within {HANG_SECONDS} s (validate) or {BUILD_HANG_SECONDS} s (build)"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if problem:
                problems.append(f"{name}: {problem}")
            path.unlink()
    finally:
        signal.signal(signal.SIGALRM, previous)
    return count, problems


def test_hostile_inputs_are_refused_with_file_and_line(tmp_path: Path) -> None:
    count, problems = _run(hostile(), tmp_path)
    assert count == len(HOSTILE)
    assert not problems, "\n".join(problems)


def test_mutated_scenarios_never_crash_or_hang(tmp_path: Path) -> None:
    BUILT.clear()
    count, problems = _run(mutants(SEED, COUNT), tmp_path)
    assert count == COUNT
    assert not problems, f"seed {SEED}: {len(problems)} of {count} mutants failed:\n" + "\n".join(problems[:40])
    # The mutants must not all be refused at the first line: enough of them get through validate to the build
    # (about 13% with the default seed) for the build to be fuzzed too.
    assert len(BUILT) >= COUNT // 20, f"only {len(BUILT)} of {count} mutants validated"


@pytest.mark.parametrize("case", ["alias-bomb-key", "generate-smuggled", "deep-flow", "lone-surrogate"])
def test_validate_command_exits_2_without_traceback(tmp_path: Path, case: str) -> None:
    """The real command, end to end, on the cases that once hung or crashed it."""
    path = tmp_path / f"{case}.yaml"
    text = HOSTILE[case]
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    done = subprocess.run([sys.executable, "-m", "testbed.cli.main", "validate", str(path)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:" in done.stderr and "Fix:" in done.stderr


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    """Reading a FIFO blocks until a writer comes: validate must not wait for one."""
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    with pytest.raises(TestbedError, match="not a regular file"):
        load_scenario(fifo)
