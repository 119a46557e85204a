"""Reports: turn a run's ``Verdict`` list into console output, JSON and JUnit XML.

Each format is one module taking the same inputs (verdicts, backend, resolver versions); ``common`` holds what
they share. The HTML matrix will be one more module here (``html.py``), built from ``json_report.run_document``.
"""

from testbed.report.console import ConsoleReporter, summary_line
from testbed.report.json_report import run_document, write_json
from testbed.report.junit import junit_tree, write_junit

__all__ = ["ConsoleReporter", "junit_tree", "run_document", "summary_line", "write_json", "write_junit"]
