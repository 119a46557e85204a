"""The quickstart lab on the netns and the docker backend, side by side in one run.

    .venv/bin/python bench/bench_backends.py [--resolver unbound] [--repeat 3]

For each backend and repeat it runs scenarios/quickstart and prints: cold start (an empty machine to a lab whose
servers and resolvers answer), the median and 90th-percentile time per check, the whole run's wall time, and the
docker/netns ratio of each. Ratios, not seconds, are the figures to compare: the machine is shared and noisy.
Images must exist (scripts/setup.sh --docker builds them); the first docker run after a code change also rebuilds
the auth image, so the best of the repeats is shown.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from testbed.faults import fault_params
from testbed.resolvers import registry
from testbed.run.runner import run
from testbed.scenario import load_paths

ROOT = Path(__file__).resolve().parent.parent


def measure(backend: str, resolvers: list[str], scenarios: list) -> dict[str, float]:
    t0 = time.monotonic()
    result = run(scenarios, resolvers, backend)
    wall = time.monotonic() - t0
    durations = sorted(v.duration_ms for v in result.verdicts)
    bad = [v for v in result.verdicts if v.status in ("fail", "error")]
    if bad:
        raise SystemExit(f"{backend}: {len(bad)} checks failed; fix the lab before timing it")
    return {"cold_start_s": result.timings.get("cold_start_s", 0.0), "check_median_ms": statistics.median(durations),
            "check_p90_ms": durations[int(0.9 * (len(durations) - 1))], "wall_s": wall,
            "checks": float(len(durations))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolver", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    resolvers = args.resolver or ["unbound"]
    scenarios = load_paths([ROOT / "scenarios" / "quickstart"], known_faults=fault_params(),
                           known_resolvers=registry())
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for backend in ("netns", "docker"):      # alternate, so both see the same machine load
            figures = measure(backend, resolvers, scenarios)
            if backend not in best or figures["wall_s"] < best[backend]["wall_s"]:
                best[backend] = figures
    print(f"quickstart, {int(best['netns']['checks'])} checks, resolvers {', '.join(resolvers)}, "
          f"best of {args.repeat}")
    print(f"{'':18}{'netns':>10}{'docker':>10}{'docker/netns':>14}")
    for key, label in (("cold_start_s", "cold start s"), ("check_median_ms", "check median ms"),
                       ("check_p90_ms", "check p90 ms"), ("wall_s", "whole run s")):
        n, d = best["netns"][key], best["docker"][key]
        print(f"{label:18}{n:>10.2f}{d:>10.2f}{d / n if n else float('nan'):>14.2f}")


if __name__ == "__main__":
    main()
