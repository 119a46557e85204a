"""pytest plugin: labs as fixtures, and scenario files as test items.

Fixtures:
  ``testbed``  (session) a TestbedSession: ``testbed.run("scenarios/quickstart")`` returns the RunResult;
               labs stay up for the whole session, so each further scenario costs a zone swap, not a cold start.
Options:
  --testbed-backend auto|netns|docker      --testbed-resolver NAME (repeatable)
  --testbed-scenarios PATH                 collect every scenario file under PATH as a test item
The plugin is registered through the ``pytest11`` entry point; a plain ``import pytest`` test can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.errors import TestbedError
from testbed.resolvers.profiles import PROFILES
from testbed.run.runner import LabPool, RunResult, run
from testbed.run.select import check_resolver_requests, load, pick_backend, pick_resolvers
from testbed.scenario.model import Scenario


class TestbedSession:
    """Runs scenarios on labs that live as long as the pytest session."""

    __test__ = False

    def __init__(self, backend: str, resolvers: tuple[str, ...], profile: str = "defaults") -> None:
        self._backend_request = backend
        self._resolver_request = resolvers
        self.profile = profile              # the standards profile every resolver's config is rendered for
        self._pool: LabPool | None = None

    @property
    def pool(self) -> LabPool:
        if self._pool is None:
            check_resolver_requests(self._resolver_request)
            backend = pick_backend(self._backend_request)
            adapters = pick_resolvers(self._resolver_request, backend)
            for adapter in adapters:
                adapter.profile = self.profile      # testbed/resolvers/profiles.py: what each adapter renders
            self._pool = LabPool(backend, adapters)
        return self._pool

    def load(self, *paths: str | Path) -> list[Scenario]:
        return load(tuple(Path(p) for p in paths))

    def run(self, *paths: str | Path | Scenario) -> RunResult:
        scenarios = [p for p in paths if isinstance(p, Scenario)]
        files = [p for p in paths if not isinstance(p, Scenario)]
        if files:
            scenarios += self.load(*files)
        return run(scenarios, self.pool.resolvers, self.pool.backend, pool=self.pool)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dnssec-testbed")
    group.addoption("--testbed-backend", default="auto", choices=("auto", "netns", "docker"),
                    help="lab backend for the testbed fixture and scenario items")
    group.addoption("--testbed-resolver", action="append", default=[],
                    help="resolver to test (repeatable; default: every one available)")
    group.addoption("--testbed-scenarios", action="append", default=[], type=Path,
                    help="collect the scenario files under this path as test items")
    group.addoption("--testbed-profile", default="defaults", choices=PROFILES,
                    help="standards profile of the resolvers' configs (docs/profiles.md)")


def _new_session(config: pytest.Config) -> TestbedSession:
    return TestbedSession(config.getoption("--testbed-backend"), tuple(config.getoption("--testbed-resolver")),
                          config.getoption("--testbed-profile"))


@pytest.fixture(scope="session")
def testbed(request: pytest.FixtureRequest) -> Iterator[TestbedSession]:
    session = _new_session(request.config)
    request.config.stash[_SESSION_KEY] = session
    try:
        yield session
    finally:
        session.close()


_SESSION_KEY = pytest.StashKey[TestbedSession]()


def _session(config: pytest.Config) -> TestbedSession:
    if _SESSION_KEY not in config.stash:
        config.stash[_SESSION_KEY] = _new_session(config)
    return config.stash[_SESSION_KEY]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_KEY in config.stash:
        config.stash[_SESSION_KEY].close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    roots = [p.resolve() for p in parent.config.getoption("--testbed-scenarios", default=[]) or []]
    if file_path.suffix in (".yaml", ".yml") and any(r == file_path or r in file_path.parents for r in roots):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):
    """One scenario file: passes when every check on every resolver passes or is a documented xfail."""

    def runtest(self) -> None:
        session = _session(self.config)
        self.user_properties.append(("profile", session.profile))     # pytest's own JUnit XML names it too
        result = session.run(self.path)
        bad = [v for v in result.verdicts if v.status in ("fail", "error")]
        if bad:
            raise ScenarioFailed(bad)
        if not result.verdicts:
            raise ScenarioFailed([])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            if not excinfo.value.verdicts:
                return "no check ran (no selected resolver is listed in the scenario)"
            return "\n".join(f"{v.resolver}: {v.check.query_text}: {v.status}: {v.reason}"
                             for v in excinfo.value.verdicts)
        if isinstance(excinfo.value, TestbedError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


class ScenarioFailed(Exception):
    def __init__(self, verdicts: list) -> None:
        super().__init__(f"{len(verdicts)} check(s) failed")
        self.verdicts = verdicts
