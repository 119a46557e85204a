"""Console output while a run is going: a live rich table on a terminal, one plain line per result otherwise.

Plain lines matter: CI logs and pipes are not terminals, and a live display there would be control-code noise.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import Protocol, runtime_checkable

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from testbed.report.anchor_checklist import checklist_lines
from testbed.report.common import expected_text, observed_text, query_label, run_profile, summary_counts
from testbed.report.readiness import NOT_READY, OK, Readiness, readiness
from testbed.report.registry_report import refusal_lines, report_lines
from testbed.run.checks import Verdict

STATUS_STYLE = {"pass": "green", "fail": "bold red", "xfail": "yellow", "error": "magenta"}
_RESERVED_LINES = 7  # header, borders, caption and the status line around the live table's rows


@runtime_checkable
class HasVerdicts(Protocol):
    """Anything that carries a run's verdicts (the runner's RunResult)."""

    verdicts: list[Verdict]


def verdicts_of(result: HasVerdicts | Iterable[Verdict]) -> list[Verdict]:
    return list(result.verdicts) if isinstance(result, HasVerdicts) else list(result)


def summary_line(verdicts: Iterable[Verdict], seconds: float | None = None) -> str:
    verdicts = list(verdicts)
    counts = summary_counts(verdicts)
    errors = "error" if counts["error"] == 1 else "errors"
    text = f"{counts['pass']} passed, {counts['fail']} failed, {counts['xfail']} xfail, {counts['error']} {errors}"
    profile = run_profile(verdicts)
    # vendor defaults go unsaid (the line CI logs grep stays as it was); any other profile is named
    return text + (f" in {seconds:.1f}s" if seconds is not None else "") + \
        (f" (profile {profile})" if profile != "defaults" else "")


def plain_line(verdict: Verdict) -> str:
    line = (f"{verdict.status.upper():5}  {verdict.scenario}  {verdict.resolver}  {query_label(verdict)}  "
            f"expected {expected_text(verdict.expected)}; observed {observed_text(verdict)}")
    return line + (f"  ({verdict.reason})" if verdict.reason else "")


def evidence_lines(verdict: Verdict, most: int = 12) -> list[str]:
    if verdict.status not in ("fail", "error"):
        return []
    return [line for line in verdict.log_excerpt.splitlines() if line.strip()][-most:]


def verdict_table(verdicts: list[Verdict], caption: str | None = None) -> Table:
    table = Table(caption=caption, caption_justify="left", expand=False)
    for column in ("scenario", "resolver", "query", "expected", "observed", "status"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        status = Text(v.status, style=STATUS_STYLE.get(v.status, ""))
        # Text(...) rather than str: scenario names and queries may contain [brackets] rich would read as markup.
        table.add_row(Text(v.scenario), Text(v.resolver), Text(query_label(v)), Text(expected_text(v.expected)),
                      Text(observed_text(v)), status)
    return table


def readiness_table(grid: Readiness, scenario: str) -> Table:
    """One timeline's phase x resolver grid: ok, or broken with the checks that show it."""
    resolvers = grid.resolvers(scenario)
    table = Table(title=Text(f"readiness: {scenario}"), title_justify="left", expand=False)
    table.add_column("phase", overflow="fold")
    for resolver in resolvers:
        table.add_column(resolver, overflow="fold")
    for phase, cells in grid.grid[scenario].items():
        row = [Text(phase)]
        for resolver in resolvers:
            cell = cells.get(resolver)
            if cell is None:
                row.append(Text("-", style="dim"))
            elif cell.status == OK:
                row.append(Text("ok", style="green"))
            else:
                # the failing names follow the table (readiness_lines): cells stay narrow enough for a terminal
                row.append(Text("broken", style="bold red"))
        table.add_row(*row)
    return table


def readiness_lines(grid: Readiness) -> list[str]:
    """The verdict line, then one line per broken cell naming the phase, the resolver and the failing names."""
    lines = [grid.verdict]
    for scenario, phase, resolver, failing in grid.broken():
        lines.append(f"  {scenario} / {phase}: {resolver} broken ({', '.join(failing)})")
    return lines


class ConsoleReporter:
    """A context manager around a run: ``add`` each verdict, ``note`` what is happening, ``summary`` at the end.

    On a terminal the ``with`` block shows a live table of the newest results and, on leaving, the full table.
    Elsewhere each verdict is one plain line as it arrives. ``summary`` prints the counts line (after the block).
    """

    def __init__(self, console: Console | None = None, *, live: bool | None = None) -> None:
        self.console = console or Console()
        self.live_mode = self.console.is_terminal if live is None else live
        self.verdicts: list[Verdict] = []
        self._note = ""
        self._live: Live | None = None
        self._started = time.monotonic()

    def __enter__(self) -> ConsoleReporter:
        self._started = time.monotonic()
        if self.live_mode:
            # transient: the live view (only the newest rows) is replaced by the full table when the run ends
            self._live = Live(self._render(), console=self.console, transient=True, auto_refresh=False)
            self._live.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def note(self, text: str) -> None:
        """What the run is doing now ('starting lab', 'scenario x'); shown under the table or as a plain line."""
        self._note = text
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
        else:
            self.console.print(text, markup=False, highlight=False)

    def add(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
        else:
            self.console.print(Text(plain_line(verdict)), soft_wrap=True, highlight=False)
            self._print_evidence(verdict)

    def _print_evidence(self, verdict: Verdict) -> None:
        """Why, in one sentence from our own chain walk, then the resolver's log lines from the failed check's time
        window: why it answered as it did."""
        if verdict.evidence is not None and verdict.evidence.why and verdict.status in ("fail", "error"):
            self.console.print(Text(f"    why: {verdict.evidence.why}", style="dim"), soft_wrap=True,
                               highlight=False)
        lines = evidence_lines(verdict)
        if lines:
            self.console.print(Text(f"    {verdict.resolver} log during this check:", style="dim"), highlight=False)
            for line in lines:
                self.console.print(Text(f"      {line}", style="dim"), soft_wrap=True, highlight=False)

    def close(self) -> None:
        """End the live view, leaving the full table on screen. Safe to call twice."""
        if self._live is None:
            return
        self._live.stop()
        self._live = None
        if self.verdicts:
            self.console.print(verdict_table(self.verdicts))
            # The table has no room for reasons; list them for what needs attention, the way plain lines show them.
            for verdict in self.verdicts:
                if verdict.status in ("fail", "error"):
                    self.console.print(Text(plain_line(verdict), style=STATUS_STYLE[verdict.status]), soft_wrap=True,
                                       highlight=False)
                    self._print_evidence(verdict)

    def summary(self, result: HasVerdicts | Iterable[Verdict] | None = None) -> str:
        """Print and return the counts line. ``result`` may be anything with ``.verdicts`` (the runner's
        RunResult) or a list of verdicts; by default the verdicts this reporter has seen."""
        verdicts = self.verdicts if result is None else verdicts_of(result)
        line = summary_line(verdicts, time.monotonic() - self._started)
        counts = summary_counts(verdicts)
        style = ("bold red" if counts["fail"] or counts["error"] else "bold green") if self.live_mode else None
        self.console.print(Text(line, style=style or ""), highlight=False)
        return line

    def readiness(self, result: HasVerdicts | Iterable[Verdict] | None = None) -> str | None:
        """For a run with timelines: print each one's phase x resolver grid and READY / NOT READY; return the
        verdict (None without timelines). ``result`` as for ``summary``."""
        verdicts = self.verdicts if result is None else verdicts_of(result)
        grid = readiness(verdicts)
        if grid is None:
            return None
        # the registry report first: the verdict and its broken cells stay the last lines, as scripts read them
        events = list(getattr(result, "registry", []))
        for line in report_lines(verdicts, events) + checklist_lines(verdicts, events):
            self.console.print(Text(line), soft_wrap=True, highlight=False)
        for scenario in grid.grid:
            self.console.print(readiness_table(grid, scenario))
        lines = readiness_lines(grid)
        style = "bold red" if grid.verdict == NOT_READY else "bold green"
        self.console.print(Text(lines[0], style=style if self.live_mode else ""), highlight=False)
        for line in lines[1:]:
            self.console.print(Text(line), soft_wrap=True, highlight=False)
        # what the registry refused: a plan can be READY because its registry caught a registrant's mistake
        refused = refusal_lines(events)
        if refused:
            self.console.print(Text("registry refused:"), highlight=False)
            for line in refused:
                self.console.print(Text(line), soft_wrap=True, highlight=False)
        return grid.verdict

    def _render(self) -> Group:
        # Only the newest rows fit on screen; redrawing more than the terminal height garbles the live view.
        room = max(3, self.console.size.height - _RESERVED_LINES)
        shown = self.verdicts[-room:]
        hidden = len(self.verdicts) - len(shown)
        caption = f"... {hidden} earlier results" if hidden else None
        status = Text(f"{summary_line(self.verdicts)}  {self._note}".rstrip(), style="dim")
        return Group(verdict_table(shown, caption), status)
