"""Chart labels in the HTML report are SVG text, not glyph outlines (issue 11, item 2).

The charts are SVG written directly (no font is looked up or measured, issue 12): the
Chinese criterion titles must be in the charts as ``<text>``, to be drawn by the viewer's
fonts, with a font stack that ends in the browser's CJK fallbacks.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from click.testing import CliRunner

from cli import main

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> None:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output


def test_chinese_chart_labels_are_text(tmp_path):
    lines = (REPO / "examples" / "sample-day.jsonl").read_text(encoding="utf-8").splitlines()
    zh = [line for line in lines if '"language":"zh"' in line][:60]
    assert len(zh) == 60
    src = tmp_path / "zh.jsonl"
    src.write_text("\n".join(zh) + "\n", encoding="utf-8")
    db = str(tmp_path / "a.db")
    run("audit", str(src), "--db", db, "--quiet")
    out = tmp_path / "week.html"
    run("report", "--db", db, "-o", str(out))
    page = out.read_text(encoding="utf-8")

    svgs = re.findall(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert len(svgs) >= 3
    texts = [
        html.unescape(t) for svg in svgs for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    ]
    chinese = [t for t in texts if re.search(r"[\u4e00-\u9fff]", t)]
    # the criteria chart's labels are the rubric's Chinese titles
    assert {"标准结束语", "首次响应时间"} <= set(chinese), chinese
    # no glyph outlines: nothing in the charts is drawn as a path
    for svg in svgs:
        assert "<path" not in svg
        assert "<text" in svg
    families = re.findall(r"font-family: ([^;]+);", "".join(svgs))
    assert families and all(
        "'Noto Sans CJK SC'" in f and f.endswith("sans-serif") for f in families
    )
