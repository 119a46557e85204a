"""The HTML report of a real quickstart run, rendered by a real browser: headless Chromium draws the matrix in the
status colours, and the inline script runs (it marks the cell whose details the URL opens).

Needs Debian's chromium (scripts/setup.sh installs it); the test skips, saying so, where it is absent.
"""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from testbed.faults import fault_params
from testbed.report.html import write_html
from testbed.resolvers import registry
from testbed.run.runner import run
from testbed.scenario import load_paths
from tests.conftest import QUICKSTART, requires_netns

CHROMIUM = Path("/usr/bin/chromium")
PASS_GREEN = (0x2F, 0x9E, 0x44)        # --pass in testbed/report/html.py's CSS

pytestmark = [
    pytest.mark.integration,
    requires_netns,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The report of a real quickstart run on Unbound, and how many scenarios it has."""
    scenarios = load_paths([QUICKSTART], known_faults=fault_params(), known_resolvers=registry())
    result = run(scenarios, ["unbound"], "netns")
    assert result.verdicts, "the run produced no verdicts"
    out = tmp_path_factory.mktemp("html") / "matrix.html"
    write_html(out, result.verdicts, result.backend, sorted(result.resolvers.items()))
    return out, len(scenarios)


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with everything that would reach out to the network or a desktop turned off."""
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp / 'profile'}", *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and the RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes).

    Plain zlib and the five PNG row filters, so the test needs no imaging library.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length          # length, type, body, CRC
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    assert header is not None, "PNG without IHDR"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(chunks))
    previous = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:       # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:     # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:     # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:     # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, pixels


def near(colour: tuple[int, ...], target: tuple[int, int, int], slack: int = 6) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour, target, strict=True))


def test_screenshot_shows_the_matrix_in_status_colours(report: tuple[Path, int], tmp_path: Path) -> None:
    page, scenarios = report
    png = tmp_path / "matrix.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1400,1000", page.as_uri())
    assert png.is_file() and png.stat().st_size > 0, "chromium wrote no screenshot"
    width, height, pixels = png_pixels(png.read_bytes())
    assert (width, height) == (1400, 1000)
    colours = Counter(pixels)
    # not blank: text, table borders, badges and cells give many colours, and no one colour is nearly everything
    assert len(colours) >= 8, f"only {len(colours)} colours: the page did not render"
    assert colours.most_common(1)[0][1] < 0.97 * len(pixels), "one colour covers the whole screenshot"
    # every quickstart check passes on Unbound, so each scenario's cell is green: at least a few cells' worth
    green = sum(count for colour, count in colours.items() if near(colour, PASS_GREEN))
    assert green >= scenarios * 1000, f"{green} green pixels for {scenarios} passing cells"


def test_dom_after_the_script_ran(report: tuple[Path, int], tmp_path: Path) -> None:
    page, scenarios = report
    text = page.read_text(encoding="utf-8")
    first = re.search(r'<article class="detail" id="(d-\d+)" data-cell="(c-\d+)"', text)
    assert first is not None, "the report has no details"
    detail_id, cell_id = first.groups()
    # Open the first cell's details through the URL, the way clicking the cell's link does.
    dom = chromium(tmp_path, "--dump-dom", f"{page.as_uri()}#{detail_id}").stdout
    assert re.search(r'<html[^>]*\bdata-js="ready"', dom), "the inline script did not finish"
    cells = re.findall(r'<td class="cell (\w+)[^"]*" id="(c-\d+)"', dom)
    assert len(cells) == scenarios, f"{len(cells)} cells for {scenarios} scenarios"
    assert {status for status, _ in cells} == {"pass"}
    assert re.search(rf'<td class="cell pass selected" id="{cell_id}"', dom), "the opened cell is not marked"
    assert dom.count("selected") == 1 + text.count("selected")   # one cell marked, nothing else
