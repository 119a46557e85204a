"""``python -m testbed.auth CONFIG.json``: run the builtin server in the foreground.

Prints one line ``READY`` on stdout once every socket is bound (the lab waits for it); everything else goes to
stderr. SIGHUP re-reads the config and all zone files and swaps them in at once (a failed reload keeps the old data);
SIGTERM and SIGINT stop it with exit status 0. Config, zone and bind errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from testbed.auth.config import load_config
from testbed.auth.server import DEFAULT_TCP_IDLE_TIMEOUT, AuthServer
from testbed.errors import TestbedError

log = logging.getLogger("testbed.auth")


class _Reloader:
    """Runs SIGHUP reloads one at a time; a SIGHUP during a reload schedules one more after it."""

    def __init__(self, server: AuthServer, path: Path) -> None:
        self.server = server
        self.path = path
        self.task: asyncio.Task[None] | None = None
        self.again = False

    def request(self) -> None:
        if self.task is not None and not self.task.done():
            self.again = True
            return
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.again = False
            try:
                # Parse in a thread so queries keep being answered from the old data meanwhile.
                config = await asyncio.get_running_loop().run_in_executor(None, load_config, self.path)
                self.server.load(config)
                log.info("reloaded %s", self.path)
            except TestbedError as exc:
                log.error("reload failed, still serving the old data: %s", exc)
            except Exception:
                log.exception("reload failed, still serving the old data")
            if not self.again:
                return


async def _serve(path: Path, query_log: bool, tcp_idle_timeout: float) -> int:
    try:
        config = load_config(path)
        server = AuthServer(config, query_log=query_log, tcp_idle_timeout=tcp_idle_timeout)
        await server.start()
    except TestbedError as exc:
        log.error("%s", exc)
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloader = _Reloader(server, path)
    loop.add_signal_handler(signal.SIGHUP, reloader.request)
    zones = sorted({str(origin) for endpoint in config.endpoints for origin in endpoint.zones})
    log.info("serving %d zones: %s", len(zones), " ".join(zones))
    print("READY", flush=True)
    await stop.wait()
    log.info("stopping")
    await server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.auth",
                                     description="Run the builtin authoritative DNS server in the foreground.")
    parser.add_argument("config", type=Path, help="CONFIG.json: listen addresses and zone files")
    parser.add_argument("--query-log", action="store_true", help="log every query: client qname qtype rcode")
    parser.add_argument("--tcp-idle-timeout", type=float, default=DEFAULT_TCP_IDLE_TIMEOUT, metavar="SECONDS")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s testbed.auth: %(message)s")
    try:
        return asyncio.run(_serve(args.config, args.query_log, args.tcp_idle_timeout))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 0


if __name__ == "__main__":
    sys.exit(main())
