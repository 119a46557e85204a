"""Reports: turn a run's ``Verdict`` list into console output, JSON, JUnit XML and the HTML matrix.

Each format is one module taking the same inputs (verdicts, backend, resolver versions); ``common`` holds what
they share. The HTML matrix is built from the verdicts rather than the JSON: it shows what the JSON leaves out
(the RFC reference, the override's source, the resolver's log around a failure). ``readiness`` turns a rehearsal's
verdicts into the phase x resolver grid and READY / NOT READY.

May import: scenario, run (checks), errors. Never: lab, cli.
"""

from testbed.report.console import ConsoleReporter, summary_line
from testbed.report.html import write_html
from testbed.report.json_report import run_document, write_json
from testbed.report.junit import junit_tree, write_junit

__all__ = ["ConsoleReporter", "junit_tree", "run_document", "summary_line", "write_html", "write_json",
           "write_junit"]
