"""The HTML matrix: one self-contained page, scenario x resolver, grouped by scenario folder, one coloured cell each.

The matrix and every cell's details are rendered here, in Python, so the page reads the same with scripts off
(CI artifact viewers often block them): a cell is a link to its details, which CSS ``:target`` shows in a side
panel. The inline script only adds comfort: it marks the selected cell, closes the panel on Escape and can hide
the scenarios where every resolver passed. Nothing is loaded from elsewhere; the file can be mailed or archived.

Everything that comes from outside (scenario names, EDE texts, rdata, resolver log lines) is escaped: log lines in
particular contain ``<`` and ``&``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from testbed import __version__
from testbed.report.common import expected_text, query_label, run_profile, scenario_group, summary_counts
from testbed.run.checks import STATUSES, Verdict
from testbed.scenario.loader import IMPLIED_RCODES
from testbed.scenario.model import Expectation

# A cell shows its worst verdict: one failing check out of three is what a reader must see first.
SEVERITY: tuple[str, ...] = ("error", "fail", "xfail", "pass")
# Column order of the resolver table: a divergence sits next to the passes it stands in for.
COLUMNS: tuple[str, ...] = ("pass", "xfail", "fail", "error")
# What AD should be for each outcome word; bogus and servfail answers carry no data, so AD says nothing there.
EXPECTED_AD = {"secure": "1", "insecure": "0"}
# Characters HTML forbids in text (C0 controls other than tab/newline/CR, DEL and the C1 block). Logs may hold
# terminal escapes; a browser would show them as garbage or, for NUL, drop the text after them.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def esc(text: object) -> str:
    """Text -> HTML-safe text, quotes included (it also goes into attributes)."""
    return html.escape(_NOT_TEXT.sub("\ufffd", str(text)), quote=True)


@dataclass
class Cell:
    """One scenario run on one resolver: every check of it, in run order."""

    index: int
    group: str
    scenario: str
    file: str
    resolver: str
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def status(self) -> str:
        present = {v.status for v in self.verdicts}
        return next(s for s in SEVERITY if s in present)

    @property
    def cell_id(self) -> str:
        return f"c-{self.index}"

    @property
    def detail_id(self) -> str:
        return f"d-{self.index}"

    def label(self) -> str:
        """The cell text: the status, or counts per status when the scenario has several checks."""
        if len(self.verdicts) == 1:
            return self.status
        counts = summary_counts(self.verdicts)
        return " · ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])


@dataclass
class Row:
    group: str
    scenario: str
    file: str
    cells: dict[str, Cell] = field(default_factory=dict)      # resolver -> cell

    @property
    def all_pass(self) -> bool:
        return all(cell.status == "pass" for cell in self.cells.values())


def build_rows(verdicts: Iterable[Verdict]) -> dict[str, list[Row]]:
    """Group -> rows, groups and scenarios in the order the run reached them."""
    rows: dict[tuple[str, str, str], Row] = {}
    index = 0
    for verdict in verdicts:
        group = scenario_group(verdict)
        file = str(verdict.file) if verdict.file is not None else ""
        key = (group, verdict.scenario, file)     # a name may repeat across folders; the file tells them apart
        row = rows.setdefault(key, Row(group, verdict.scenario, file))
        if verdict.resolver not in row.cells:
            index += 1
            row.cells[verdict.resolver] = Cell(index, group, verdict.scenario, file, verdict.resolver)
        row.cells[verdict.resolver].verdicts.append(verdict)
    grouped: dict[str, list[Row]] = {}
    for row in rows.values():
        grouped.setdefault(row.group, []).append(row)
    return grouped


def resolver_columns(verdicts: list[Verdict], resolvers: Sequence[tuple[str, str]]) -> list[str]:
    """The resolvers the caller named, in its order, then any other resolver that has a verdict."""
    names = [name for name, _ in resolvers]
    for verdict in verdicts:
        if verdict.resolver not in names:
            names.append(verdict.resolver)
    return names


# ---- the page -------------------------------------------------------------------------------------------------------

CSS = """
:root { --pass: #2f9e44; --xfail: #f2a900; --fail: #d62828; --error: #c2189b; --none: #e9ecef; --ink: #1b1f23;
        --muted: #5c636a; --line: #d0d4d9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "Liberation Sans", sans-serif;
       color: var(--ink); background: #fff; }
header, main { padding: 12px 20px; }
h1 { font-size: 20px; margin: 0 0 6px; }
.meta { color: var(--muted); margin: 0 0 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 9px; font-weight: 600; color: #fff; }
.badge.pass { background: var(--pass); } .badge.xfail { background: var(--xfail); color: #000; }
.badge.fail { background: var(--fail); } .badge.error { background: var(--error); }
table { border-collapse: collapse; }
.resolvers td, .resolvers th { border: 1px solid var(--line); padding: 3px 10px; text-align: right; }
.resolvers td:nth-child(-n+2), .resolvers th:nth-child(-n+2) { text-align: left; }
.legend { color: var(--muted); }
.matrix { margin-top: 6px; }
.matrix th, .matrix td { border: 1px solid #fff; padding: 0; }
.matrix thead th { background: #343a40; color: #fff; padding: 6px 12px; font-weight: 600; position: sticky; top: 0; }
.matrix thead th small { font-weight: 400; opacity: .8; }
.matrix tr.group-head th { background: #f1f3f5; text-align: left; padding: 8px 10px 4px; font-size: 15px;
                           border-bottom: 2px solid var(--line); }
.matrix th[scope=row] { text-align: left; font-weight: 400; padding: 4px 10px; background: #f8f9fa;
                        max-width: 360px; }
.cell { min-width: 130px; text-align: center; }
.cell a { display: block; padding: 5px 8px; color: inherit; text-decoration: none; }
.cell.pass { background: var(--pass); color: #fff; } .cell.xfail { background: var(--xfail); color: #000; }
.cell.fail { background: var(--fail); color: #fff; } .cell.error { background: var(--error); color: #fff; }
.cell.none { background: var(--none); color: var(--muted); }
.cell a:hover, .cell a:focus, .cell.selected a { outline: 3px solid var(--ink); outline-offset: -3px; }
html.only-problems tr.all-pass { display: none; }
html:not([data-js]) .js-only { display: none; }
.detail { display: none; }
.detail:target { display: block; position: fixed; top: 0; right: 0; bottom: 0; width: min(760px, 60vw);
                 overflow: auto; background: #fff; border-left: 4px solid var(--ink); padding: 12px 18px 40px;
                 box-shadow: -6px 0 18px rgba(0,0,0,.18); }
.detail h2 { font-size: 17px; margin: 0 0 2px; }
.detail .close { float: right; font-size: 13px; }
.check { border-top: 1px solid var(--line); margin-top: 12px; padding-top: 8px; }
.check h3 { font-size: 15px; margin: 0 0 6px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.cmp th, .cmp td { border: 1px solid var(--line); padding: 2px 8px; text-align: left; vertical-align: top; }
.cmp td { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
.cmp td.miss { background: #ffe3e3; }
.reason { margin: 6px 0; }
.why { margin: 6px 0; padding: 6px 8px; background: #fff9db; border-left: 4px solid #f08c00; }
.chain-picture { margin: 6px 0; overflow: auto; }
.chain-picture svg { max-width: 100%; max-height: 60vh; width: auto; height: auto; }
pre.chain, pre.wire { background: #f8f9fa; padding: 8px; overflow: auto; max-height: 340px; font-size: 12px; }
pre.log { background: #212529; color: #e9ecef; padding: 8px; overflow: auto; max-height: 340px; font-size: 12px;
          white-space: pre-wrap; word-break: break-all; }
"""

# Progressive enhancement only (see the module docstring); every id it reads is written by ``render`` below.
SCRIPT = """
(function () {
  "use strict";
  var root = document.documentElement, selected = null;
  function select(id) {
    if (selected) { selected.classList.remove("selected"); selected = null; }
    var detail = id ? document.getElementById(id) : null;
    if (!detail || !detail.classList.contains("detail")) { return; }
    var cell = document.getElementById(detail.getAttribute("data-cell"));
    if (cell) { cell.classList.add("selected"); selected = cell; }
  }
  window.addEventListener("hashchange", function () { select(location.hash.slice(1)); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && selected) { location.hash = "matrix"; }
  });
  var only = document.getElementById("only-problems");
  if (only) {
    only.addEventListener("change", function () { root.classList.toggle("only-problems", only.checked); });
  }
  select(location.hash.slice(1));
  root.setAttribute("data-js", "ready");
})();
"""


def render(verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]], *,
           generated: datetime | None = None, title: str = "dnssec-testbed") -> str:
    """The whole page as one string. ``resolvers`` is (name, version) pairs, as for ``write_json``."""
    verdicts = list(verdicts)
    versions = dict(resolvers)
    columns = resolver_columns(verdicts, resolvers)
    groups = build_rows(verdicts)
    counts = summary_counts(verdicts)
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    heading = f"{title}: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + f" ({backend})"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title><style>{CSS}</style></head><body>",
        _header(verdicts, backend, columns, versions, groups, when, title),
        '<main><table class="matrix" id="matrix">',
        _matrix_head(columns, versions),
        *(_group_body(group, rows, columns) for group, rows in groups.items()),
        "</table></main>",
        '<section id="details">',
        *(_detail(cell, versions) for rows in groups.values() for row in rows for cell in row.cells.values()),
        "</section>",
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(path: Path, verdicts: Iterable[Verdict], backend: str, resolvers: Sequence[tuple[str, str]]) -> None:
    Path(path).write_text(render(verdicts, backend, resolvers), encoding="utf-8")


def _badge(status: str, text: str | None = None) -> str:
    return f'<span class="badge {esc(status)}">{esc(text if text is not None else status)}</span>'


def _header(verdicts: list[Verdict], backend: str, columns: list[str], versions: dict[str, str],
            groups: dict[str, list[Row]], when: str, title: str) -> str:
    counts = summary_counts(verdicts)
    scenarios = sum(len(rows) for rows in groups.values())
    totals = " ".join(_badge(s, f"{counts[s]} {s}") for s in STATUSES)
    lines = [
        "<header>",
        f"<h1>{esc(title)}: scenario × resolver</h1>",
        f'<p class="meta">backend <b>{esc(backend)}</b> · profile <b id="profile">{esc(run_profile(verdicts))}</b>'
        f" · testbed {esc(__version__)} · generated {esc(when)}</p>",
        f'<p class="totals" id="totals">{totals} — {len(verdicts)} checks in {scenarios} scenarios, '
        f"{len(groups)} groups, {len(columns)} resolvers</p>",
        '<table class="resolvers" id="resolvers"><thead><tr><th>resolver</th><th>version</th><th>pass</th>'
        "<th>divergences (xfail)</th><th>fail</th><th>error</th></tr></thead><tbody>",
    ]
    for name in columns:
        mine = summary_counts(v for v in verdicts if v.resolver == name)
        lines.append(f'<tr data-resolver="{esc(name)}"><td>{esc(name)}</td>'
                     f"<td>{esc(versions.get(name, 'unknown'))}</td>"
                     + "".join(f'<td class="n-{s}">{mine[s]}</td>' for s in COLUMNS) + "</tr>")
    lines += [
        "</tbody></table>",
        '<p class="legend">' + " ".join(_badge(s) for s in SEVERITY[::-1]) +
        " — xfail is a documented divergence, with its reason; a cell shows its worst check; click one for the "
        "query, expected vs observed, the RFC reference and, for fail/error, the resolver's log.</p>",
        '<p class="js-only"><label><input type="checkbox" id="only-problems"> hide scenarios where every resolver '
        "passed</label></p>",
        "</header>",
    ]
    return "\n".join(lines)


def _matrix_head(columns: list[str], versions: dict[str, str]) -> str:
    heads = "".join(f'<th scope="col">{esc(name)}<br><small>{esc(versions.get(name, ""))}</small></th>'
                    for name in columns)
    return f'<thead><tr><th scope="col">scenario</th>{heads}</tr></thead>'


def _group_body(group: str, rows: list[Row], columns: list[str]) -> str:
    lines = [f'<tbody class="group" data-group="{esc(group)}">',
             f'<tr class="group-head"><th colspan="{len(columns) + 1}">{esc(group)} '
             f"<small>({len(rows)} scenario{'s' if len(rows) != 1 else ''})</small></th></tr>"]
    for row in rows:
        cells = []
        for name in columns:
            cell = row.cells.get(name)
            if cell is None:  # the scenario names its resolvers and this one is not among them
                cells.append('<td class="cell none" title="not run on this resolver">–</td>')
                continue
            tip = f"{row.scenario} on {name}: {cell.label()}"
            cells.append(f'<td class="cell {cell.status}" id="{cell.cell_id}" data-resolver="{esc(name)}" '
                         f'title="{esc(tip)}"><a href="#{cell.detail_id}">{esc(cell.label())}</a></td>')
        css = "all-pass" if row.all_pass else "has-problems"
        lines.append(f'<tr class="{css}" data-scenario="{esc(row.scenario)}"><th scope="row" title="{esc(row.file)}">'
                     f"{esc(row.scenario)}</th>{''.join(cells)}</tr>")
    lines.append("</tbody>")
    return "\n".join(lines)


def _detail(cell: Cell, versions: dict[str, str]) -> str:
    version = versions.get(cell.resolver, "unknown")
    lines = [f'<article class="detail" id="{cell.detail_id}" data-cell="{cell.cell_id}">',
             '<a class="close" href="#matrix">close ✕</a>',
             f"<h2>{esc(cell.scenario)} — {esc(cell.resolver)} {esc(version)}</h2>",
             f'<p class="meta">{esc(cell.file or "(no file)")} · group {esc(cell.group)} · {esc(cell.label())}</p>']
    lines += [_check(verdict) for verdict in cell.verdicts]
    lines.append("</article>")
    return "\n".join(lines)


def _check(v: Verdict) -> str:
    obs, exp = v.observation, v.expected
    lines = [f'<section class="check {v.status}">', f"<h3>{_badge(v.status)} {esc(query_label(v))}</h3>"]
    if v.status == "xfail":
        lines.append(f'<p class="reason">documented divergence: {esc(v.reason)}</p>')
        rfc = expected_text(v.check.expect)
        lines.append(f'<p class="rfc-expectation">the RFC expectation, not met here: {esc(rfc)}</p>')
    elif v.reason:
        lines.append(f'<p class="reason">{esc(v.reason)}</p>')
    if obs.error:
        lines.append(f'<p class="reason">no usable answer: {esc(obs.error)}</p>')
    ev = v.evidence
    if ev is not None:
        # the sentence and the picture first: the quickest answer to "why"; answers and log lines follow below
        if ev.why:
            lines.append(f'<p class="why"><strong>why:</strong> {esc(ev.why)}</p>')
        if ev.chain is not None:
            from testbed.explain.picture import svg

            picture = svg(ev.chain)
            lines.append('<figure class="chain-picture">' + (picture or '<figcaption>no picture: graphviz ("dot") '
                                                                       'is not installed here</figcaption>')
                         + "</figure>")
    lines.append(_comparison(exp, v))
    lines.append(f'<p class="reference">RFC reference: {esc(v.check.reference or "none given")}</p>')
    if v.override is not None and v.override.reference:
        # the override's own source (a changelog, a measurement) says where the divergence is documented
        lines.append(f'<p class="reference">divergence documented in: {esc(v.override.reference)}</p>')
    if ev is not None:
        if ev.tree:
            lines.append(f'<details class="chain"><summary>chain of trust (our own walk), as text</summary>'
                         f'<pre class="chain">{esc(ev.tree)}</pre></details>')
        lines.append(f'<details class="wire"><summary>both answers, as dig prints them</summary>'
                     f'<pre class="wire">{esc(ev.wire)}</pre></details>')
    if v.status in ("fail", "error") or ev is not None:
        log = v.log_excerpt.strip("\n")
        lines.append(f"<details open><summary>{esc(v.resolver)} log during this check</summary>"
                     f'<pre class="log">{esc(log) if log else "(the resolver logged nothing)"}</pre></details>')
    lines.append(f'<p class="meta">{v.duration_ms:.1f} ms</p></section>')
    return "\n".join(lines)


def _comparison(exp: Expectation, v: Verdict) -> str:
    """Expected vs observed, field by field; fields that do not meet the expectation are marked."""
    obs = v.observation
    wanted_rcodes = (exp.rcode,) if exp.rcode else IMPLIED_RCODES.get(exp.outcome, ())
    answered = obs.rcode is not None
    ede_seen = ", ".join(f"{code} “{text}”" if text else str(code) for code, text in obs.ede) or "none"
    if exp.ede is None:
        ede_wanted, ede_miss = "not checked", False
    elif not exp.ede:
        ede_wanted, ede_miss = "none", bool(obs.ede)
    else:
        ede_wanted = "one of " + ", ".join(map(str, exp.ede))
        ede_miss = not any(code in exp.ede for code in obs.ede_codes)
    ad_wanted = EXPECTED_AD.get(exp.outcome)
    answer_wanted = "not checked" if exp.answer is None else (", ".join(exp.answer) or "no data")
    rows = [
        ("outcome", exp.outcome, obs.outcome, obs.outcome != exp.outcome),
        ("rcode", " or ".join(wanted_rcodes) or "any", obs.rcode or "no response",
         answered and obs.rcode not in wanted_rcodes),
        ("AD", ad_wanted if ad_wanted is not None else "–", "1" if obs.ad else "0",
         answered and ad_wanted is not None and ("1" if obs.ad else "0") != ad_wanted),
        ("EDE", ede_wanted, ede_seen, answered and ede_miss),
        ("answer", answer_wanted, ", ".join(obs.answer) or "no data", False),
        ("CD=1 answer", "data (bogus)" if exp.outcome == "bogus" else "–",
         "not asked" if obs.cd_answer is None else (", ".join(obs.cd_answer) or "no data") + f" ({obs.cd_rcode})",
         False),
    ]
    body = "".join(f'<tr><th>{esc(name)}</th><td>{esc(want)}</td><td class="{"miss" if miss else "ok"}">{esc(got)}'
                   "</td></tr>" for name, want, got, miss in rows)
    return f'<table class="cmp"><thead><tr><th></th><th>expected</th><th>observed</th></tr></thead>{body}</table>'
