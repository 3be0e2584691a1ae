"""The HTML report opens in a real browser: rendered headless, screenshot taken.

Skipped where no Chromium is installed. The browser runs with networking off, so a report
that needed anything from the network would render without it; the screenshot must come
out as a real page (a PNG of the requested size with more than one colour in it).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from test_report import CHATS, save_chats  # tests/ is on sys.path (rootdir conftest)

from auditor.reporting import build_report, render
from auditor.store import Store

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(BROWSER is None, reason="no chromium installed"),
    pytest.mark.slow,
]

#: Flags that keep headless Chromium off the network and quiet in a sandboxed machine.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_report_renders_in_chromium(tmp_path: Path):
    store = Store(tmp_path / "audit.db")
    save_chats(store, CHATS)
    html = render(build_report(store), "html")
    store.close()
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "report.png"
    assert BROWSER is not None
    subprocess.run(
        [
            BROWSER,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert _png_size(data) == (1200, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few kB; charts and tables don't
    # The DOM as the browser built it: the figures are there, as text.
    dom = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'id="kpi-pass-rate">50.0%' in dom and "质检报告" in dom
    assert dom.count("<svg") >= 4
