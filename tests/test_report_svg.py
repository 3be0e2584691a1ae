"""The report's charts, written as SVG directly (auditor/reporting/charts.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

from auditor.reporting import charts
from auditor.reporting.model import Bucket, CriterionStat, Histogram


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def _texts(svg: str) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [t.text or "" for t in _parse(svg).iter(f"{ns}text")]


def test_nice_ticks():
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(23_000) == [0, 5000, 10000, 15000, 20000, 25000]
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(0) == [0.0, 1.0]


def test_text_width_counts_wide_characters_as_an_em():
    assert charts.text_width("ab", 10) == 12
    assert charts.text_width("标准", 10) == 20


def test_timing_histogram_bars_past_the_limit_are_red():
    h = Histogram(
        metric="first_response_s",
        title="First response",
        limit_s=30,
        bin_width_s=10,
        counts=[5, 0, 3, 2],
        timed=10,
        over_limit=2,
    )
    svg = charts.timing_svg(h)
    fills = re.findall(r'<rect [^>]*fill="([^"]+)"', svg)
    # bins 0-10, 20-30 below the limit (blue), ≥30 over it (red); the empty bin has no bar
    assert fills == [charts.BLUE, charts.BLUE, charts.RED]
    texts = _texts(svg)
    assert "limit 30 s · 20.0% over" in texts
    assert {"0", "30", "60", "≥30"} <= set(texts)
    assert "First response" in texts


def test_criteria_chart_labels_are_escaped_text_with_team_marks():
    crits = [
        CriterionStat(criterion="a", title="<b>禁用语</b>", severity="fatal", failed=3, share=0.3),
        CriterionStat(criterion="b", title="结束语", failed=1, share=0.1),
    ]
    svg = charts.criteria_svg(crits, team={"a": 0.2, "b": None})
    assert "<b>" not in svg and "&lt;b&gt;禁用语&lt;/b&gt;" in svg
    texts = _texts(svg)
    assert {"<b>禁用语</b>", "结束语", "3 (30.0%)", "1 (10.0%)", "team"} <= set(texts)
    fills = re.findall(r'<rect [^>]*fill="([^"]+)"', svg)
    assert fills == [charts.RED, charts.BLUE]  # fatal criterion in red


def test_trend_breaks_the_lines_on_a_day_without_chats():
    days = [
        Bucket(label="2026-11-01", chats=2, passed=1, score_sum=150),
        Bucket(label="2026-11-02"),
        Bucket(label="2026-11-03", chats=4, passed=4, score_sum=360),
        Bucket(label="2026-11-04", chats=1, passed=1, score_sum=100),
    ]
    svg = charts.score_trend_svg(days, "trend")
    _parse(svg)
    # each line: a lone point before the gap (no polyline), then one polyline of 2 points
    assert svg.count("<polyline") == 2
    assert len(re.findall(r"<circle ", svg)) == 3  # a mean-score marker per day with chats
    assert {"11-01", "11-04", "mean score", "pass rate %", "chats audited"} <= set(_texts(svg))


def test_the_html_renderer_imports_no_plotting_library():
    code = "import sys, auditor.reporting.html; print(sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "matplotlib" not in out.stdout
