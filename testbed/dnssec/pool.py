"""Turn a list of ``(key index, data)`` jobs into signatures, in this process or with helper processes.

Crypto is most of the signing time and ``cryptography`` holds the GIL while it signs, so threads do not help; worker
processes do. A worker is ``python -c "...serve()"`` talking over its stdin/stdout pipes (length-prefixed pickles),
not ``multiprocessing``: nothing re-imports the caller's ``__main__``, nothing needs a ``if __name__ == "__main__"``
guard, and a worker that fails to start or dies only means this process signs its share. Work is split in chunks;
each worker's feeder thread takes chunks from the front while this process signs from the back, so a slow worker
start costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from testbed.dnssec.crypto import Signer, make_signer, private_from_pkcs8, private_to_pkcs8

# Below this many signatures helper processes cost more (start, imports) than they save.
MIN_PARALLEL_JOBS = 20_000
CHUNK_SIZE = 2_000
_WORKER_CODE = "from testbed.dnssec.pool import serve; serve()"


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def planned_workers(job_count: int, workers: int) -> int:
    """How many processes ``sign_jobs`` uses for ``job_count`` jobs when allowed ``workers``."""
    return workers if workers > 1 and job_count >= MIN_PARALLEL_JOBS else 1


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("signing worker closed its pipe")
    size = int.from_bytes(header, "big")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("signing worker closed its pipe")
    return pickle.loads(data)  # noqa: S301 - our own child process


def serve() -> None:
    """Worker main loop: keys first, then chunks until the pipe closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    specs = _receive(stdin)
    signers = [make_signer(algorithm, private_from_pkcs8(der)) for algorithm, der in specs]
    while True:
        try:
            chunk = _receive(stdin)
        except EOFError:
            return
        _send(stdout, [signers[index](data) for index, data in chunk])


def _start_worker(specs: list[tuple[int, bytes]]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    process = subprocess.Popen([sys.executable, "-c", _WORKER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
    assert process.stdin is not None
    _send(process.stdin, specs)
    return process


class Helpers:
    """Signing helper processes, started ahead of time so they boot while the caller is still parsing.

    ``keys[i]`` is ``(algorithm, private key)`` for key index ``i`` of the jobs they will get. A helper that fails to
    start is simply missing. Close (or use as a context manager) to let them exit.
    """

    def __init__(self, keys: Sequence[tuple[int, object]], count: int) -> None:
        specs = [(algorithm, private_to_pkcs8(private)) for algorithm, private in keys]
        self.processes: list[subprocess.Popen[bytes]] = []
        for _ in range(count):
            try:
                self.processes.append(_start_worker(specs))
            except OSError:
                break

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            process.wait()
        self.processes = []


def sign_jobs(jobs: Sequence[tuple[int, bytes]], keys: Sequence[tuple[int, object]], workers: int = 1,
              helpers: Helpers | None = None) -> tuple[list[bytes], int]:
    """Signatures for ``jobs``, in order, and how many processes made them.

    ``keys[i]`` is ``(algorithm, private key)`` for key index ``i``. ``workers`` counts processes including this one;
    1, or a job list under ``MIN_PARALLEL_JOBS``, signs here. ``helpers`` started earlier are used for any list of at
    least two chunks (their start-up cost is already paid).
    """
    signers = [make_signer(algorithm, private) for algorithm, private in keys]
    if helpers is not None:
        if helpers.processes and len(jobs) >= 2 * CHUNK_SIZE:
            return _parallel(jobs, signers, helpers.processes), len(helpers.processes) + 1
        return [signers[index](data) for index, data in jobs], 1
    workers = planned_workers(len(jobs), workers)
    if workers == 1:
        return [signers[index](data) for index, data in jobs], 1
    with Helpers(keys, workers - 1) as started:
        return _parallel(jobs, signers, started.processes), len(started.processes) + 1


def _parallel(jobs: Sequence[tuple[int, bytes]], signers: list[Signer],
              processes: list[subprocess.Popen[bytes]]) -> list[bytes]:
    chunks = [list(jobs[start:start + CHUNK_SIZE]) for start in range(0, len(jobs), CHUNK_SIZE)]
    results: list[list[bytes] | None] = [None] * len(chunks)
    lock = threading.Lock()
    bounds = [0, len(chunks)]      # next chunk from the front, one past the next chunk from the back

    def take(front: bool) -> int | None:
        with lock:
            if bounds[0] >= bounds[1]:
                return None
            if front:
                bounds[0] += 1
                return bounds[0] - 1
            bounds[1] -= 1
            return bounds[1]

    def feed(process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        try:
            while (position := take(front=True)) is not None:
                _send(process.stdin, chunks[position])
                results[position] = _receive(process.stdout)
        except (OSError, EOFError, pickle.PickleError):
            pass                    # whatever this helper did not finish is signed below

    threads = [threading.Thread(target=feed, args=(process,), daemon=True) for process in processes]
    for thread in threads:
        thread.start()
    while (position := take(front=False)) is not None:
        results[position] = [signers[index](data) for index, data in chunks[position]]
    for thread in threads:
        thread.join()
    signatures: list[bytes] = []
    for position, part in enumerate(results):
        if part is None:            # a helper failed mid-chunk
            part = [signers[index](data) for index, data in chunks[position]]
        signatures.extend(part)
    return signatures
