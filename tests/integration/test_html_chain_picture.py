"""A bogus cell of the HTML report opens the sentence and the chain of trust drawn as a picture: headless Chromium
renders the report with the cell's details open; the picture (inline SVG from graphviz) is there, with the broken
link in red, and so is the sentence.

Cost: one quickstart scenario on Unbound (netns, ~4 s) and two Chromium runs.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from testbed.faults import fault_params
from testbed.report.html import write_html
from testbed.run.runner import run
from testbed.scenario import load_scenario
from tests.conftest import QUICKSTART, requires_netns
from tests.integration.test_html_chromium import CHROMIUM, chromium, near, png_pixels

BROKEN_RED = (0xE0, 0x31, 0x31)          # COLOURS["invalid"] in testbed/explain/picture.py

pytestmark = [
    pytest.mark.integration,
    requires_netns,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz (apt-get install graphviz)"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The report of expired-rrsig on Unbound with evidence on every check; the bogus check's detail id and
    sentence."""
    scenario = load_scenario(QUICKSTART / "expired-rrsig.yaml", known_faults=fault_params())
    result = run([scenario], ["unbound"], "netns", evidence="all")
    bogus = next(v for v in result.verdicts if v.observation.outcome == "bogus")
    assert bogus.evidence is not None and bogus.evidence.why.startswith("RRSIG over www.example.jp/A by key ")
    out = tmp_path_factory.mktemp("picture") / "matrix.html"
    write_html(out, result.verdicts, result.backend, sorted(result.resolvers.items()))
    detail = re.search(r'<article class="detail" id="(d-\d+)"', out.read_text(encoding="utf-8"))
    assert detail is not None
    return out, detail.group(1), bogus.evidence.why


def test_the_open_cell_has_the_picture_and_the_sentence(page: tuple[Path, str, str], tmp_path: Path) -> None:
    report, detail, why = page
    dom = chromium(tmp_path, "--dump-dom", f"{report.as_uri()}#{detail}").stdout
    article = dom[dom.index(f'id="{detail}"'):]
    assert '<figure class="chain-picture"><svg' in article
    picture = article[article.index("<svg"):article.index("</svg>")]
    for zone in (">.<", ">jp<", ">example.jp<"):           # a box per zone, titled with its name
        assert zone in picture, zone
    assert "INVALID" in picture and "www.example.jp/A" in picture
    assert why[:60] in article.replace("&amp;", "&")


def test_screenshot_shows_the_broken_link_in_red(page: tuple[Path, str, str], tmp_path: Path) -> None:
    report, detail, _ = page
    png = tmp_path / "cell.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1400,1400", f"{report.as_uri()}#{detail}")
    _, _, pixels = png_pixels(png.read_bytes())
    colours = Counter(pixels)
    red = sum(count for colour, count in colours.items() if near(colour, BROKEN_RED, slack=10))
    # the broken node's thick border and the arrow into it: a few hundred pixels; every check passed on Unbound,
    # so no status badge is red
    assert red >= 150, f"only {red} red pixels: the broken link is not drawn"
