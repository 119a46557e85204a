"""The time shim (testbed/timeshim): built with gcc, preloaded into a small C program that reports what it sees.
No network, no resolver; skipped where no C compiler is installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testbed import timeshim

pytestmark = pytest.mark.skipif(timeshim.compiler() is None, reason="needs gcc (apt-get install gcc)")

DAY = 86400

# Prints "name value" lines. REAL is the kernel's clock read with a raw syscall, which the shim cannot see.
PROBE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long raw(clockid_t clk) { struct timespec ts; syscall(SYS_clock_gettime, clk, &ts); return ts.tv_sec; }
static long long real_now(void) { return raw(CLOCK_REALTIME); }
static long long mono_raw(void) { return raw(CLOCK_MONOTONIC); }

static void report(const char *tag) {
    struct timespec ts, mono, coarse, get; struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &ts); clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
    clock_gettime(CLOCK_MONOTONIC, &mono); gettimeofday(&tv, NULL); timespec_get(&get, TIME_UTC);
    long long real = real_now();
    printf("%s.realtime %lld\n%s.coarse %lld\n%s.gettimeofday %lld\n%s.time %lld\n%s.timespec_get %lld\n",
           tag, ts.tv_sec - real, tag, coarse.tv_sec - real, tag, (long long)tv.tv_sec - real,
           tag, (long long)time(NULL) - real, tag, get.tv_sec - real);
    printf("%s.monotonic %lld\n", tag, (long long)mono.tv_sec - mono_raw());
}

int main(int argc, char **argv) {
    const char *file = argv[1];
    report("first");
    /* rewrite the offset file the way the harness does: a temp file renamed over it */
    char tmp[4096]; snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (f) { fputs(argv[2], f); fclose(f); rename(tmp, file); }
    report("second");

    errno = 1234; (void)time(NULL); struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
    printf("errno %d\n", errno);

    int s = socket(AF_INET, SOCK_DGRAM, 0), on = 1, got = -1, size = 65536; socklen_t len = sizeof got;
    printf("so_timestamp_set %d\n", setsockopt(s, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on));
    getsockopt(s, SOL_SOCKET, SO_TIMESTAMP, &got, &len);
    printf("so_timestamp_on %d\n", got);
    printf("so_rcvbuf_set %d\n", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size));
    if (argc > 3)
        return 0;   /* "nowait": without the shim a far deadline would really be a thousand seconds away */

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    struct timespec deadline; clock_gettime(CLOCK_REALTIME, &deadline); deadline.tv_sec -= 1;
    printf("cond_past %s\n", pthread_cond_timedwait(&c, &m, &deadline) == ETIMEDOUT ? "ETIMEDOUT" : "other");
    clock_gettime(CLOCK_REALTIME, &deadline); deadline.tv_sec += 1000;
    printf("cond_far %s\n", pthread_cond_timedwait(&c, &m, &deadline) == 0 ? "spurious" : "other");
    pthread_condattr_t a; pthread_condattr_init(&a); pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_t cm; pthread_cond_init(&cm, &a);
    clock_gettime(CLOCK_MONOTONIC, &deadline); deadline.tv_nsec += 50000000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    printf("cond_monotonic %s\n", pthread_cond_timedwait(&cm, &m, &deadline) == ETIMEDOUT ? "ETIMEDOUT" : "other");
    pthread_mutex_unlock(&m);

    struct timespec until; clock_gettime(CLOCK_REALTIME, &until); until.tv_nsec += 200000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    int rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
    struct timespec after; clock_gettime(CLOCK_REALTIME, &after);
    printf("nanosleep %d %s\n", rc, (after.tv_sec > until.tv_sec || (after.tv_sec == until.tv_sec
           && after.tv_nsec >= until.tv_nsec)) ? "reached" : "early");
    return 0;
}
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get(timeshim.CACHE_ENV)
    os.environ[timeshim.CACHE_ENV] = str(cache)
    try:
        return timeshim.build()
    finally:
        if old is None:
            os.environ.pop(timeshim.CACHE_ENV)
        else:
            os.environ[timeshim.CACHE_ENV] = old


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("probe")
    (folder / "probe.c").write_text(PROBE_C)
    subprocess.run([timeshim.compiler() or "gcc", "-O1", "-o", str(folder / "probe"), str(folder / "probe.c"),
                    "-lpthread"], check=True, capture_output=True)
    return folder / "probe"


def run_probe(probe: Path, shim: Path, offset_file: Path, new_content: str) -> dict[str, str]:
    env = {**os.environ, **timeshim.environment(shim, offset_file)}
    out = subprocess.run([str(probe), str(offset_file), new_content], env=env, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def near(value: str, want: int) -> bool:
    return abs(int(value) - want) <= 2


def test_every_wall_clock_moves_and_the_monotonic_clock_does_not(shim: Path, probe: Path, tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    timeshim.write_offset(offset, 40 * DAY)
    seen = run_probe(probe, shim, offset, "-2d-not-a-number")
    for name in ("realtime", "coarse", "gettimeofday", "time", "timespec_get"):
        assert near(seen[f"first.{name}"], 40 * DAY), (name, seen)
    assert near(seen["first.monotonic"], 0)
    # unparsable content is read as offset 0: a daemon must never die of the clock file
    for name in ("realtime", "gettimeofday", "time"):
        assert near(seen[f"second.{name}"], 0), (name, seen)


def test_a_rewritten_file_is_seen_by_a_running_process(shim: Path, probe: Path, tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    timeshim.write_offset(offset, 0)
    seen = run_probe(probe, shim, offset, "-172800\n")
    assert near(seen["first.realtime"], 0) and near(seen["second.realtime"], -2 * DAY)
    assert near(seen["second.time"], -2 * DAY) and near(seen["second.monotonic"], 0)


def test_no_file_means_real_time(shim: Path, probe: Path, tmp_path: Path) -> None:
    seen = run_probe(probe, shim, tmp_path / "missing" / "offset", "+5")   # the rename fails: still no file
    assert near(seen["first.realtime"], 0) and near(seen["second.realtime"], 0)


def test_errno_sockets_and_waits(shim: Path, probe: Path, tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    timeshim.write_offset(offset, 30 * DAY)
    seen = run_probe(probe, shim, offset, "+2592000")
    assert seen["errno"] == "1234"                                   # a time call leaves errno alone
    # SO_TIMESTAMP is accepted and not switched on (PowerDNS then skips its "too old" check); others still work
    assert seen["so_timestamp_set"] == "0" and seen["so_timestamp_on"] == "0" and seen["so_rcvbuf_set"] == "0"
    # a deadline on the virtual clock: past -> timed out; far ahead -> a spurious wakeup within a real second
    assert seen["cond_past"] == "ETIMEDOUT" and seen["cond_far"] == "spurious"
    assert seen["cond_monotonic"] == "ETIMEDOUT"
    assert seen["nanosleep"] == "0 reached"


def test_without_the_shim_the_probe_sees_real_time(probe: Path, tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    timeshim.write_offset(offset, 40 * DAY)
    out = subprocess.run([str(probe), str(offset), "+1", "nowait"], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    seen = dict(line.split(" ", 1) for line in out.splitlines())
    assert near(seen["first.realtime"], 0) and seen["so_timestamp_on"] != "0"


def test_build_is_cached_per_source_version(shim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(timeshim.CACHE_ENV, str(shim.parent.parent))
    assert timeshim.library_path() == shim and timeshim.build() == shim       # no second compile
    assert shim.parent.name == f"timeshim-{timeshim.source_digest()}"
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert timeshim.build() == shim                                           # built already: no compiler needed


def test_offset_file_round_trip_and_wrap(tmp_path: Path) -> None:
    offset = tmp_path / "clock" / "offset"
    timeshim.write_offset(offset, -3600)
    assert offset.read_text() == "-3600\n" and timeshim.read_offset(offset) == -3600
    assert timeshim.read_offset(tmp_path / "none") == 0
    assert list(tmp_path.glob("clock/.*")) == []                              # the temp file was renamed away
    argv = timeshim.wrap(["rndc", "flush"], Path("/lab/shim.so"), offset)
    assert argv == ["env", "LD_PRELOAD=/lab/shim.so", f"TESTBED_TIMESHIM_FILE={offset}", "rndc", "flush"]
