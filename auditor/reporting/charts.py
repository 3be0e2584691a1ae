"""Charts as inline SVG, written directly: the trend, the two response-time histograms, the
failing criteria and the agents' sparklines.

Why SVG written by hand (it was matplotlib until issue 12):

* **Text is text.** Every label is an SVG ``<text>`` element drawn by the browser with its
  own fonts through the font stack below (Chinese criterion titles included), so labels
  stay searchable with Ctrl-F and crisp at any zoom, on machines without a CJK font.
* **Cost.** Importing matplotlib and drawing four figures was ~1.1 s of the 100k-chat
  report's CPU (about a third of it). These charts are a few bars, lines and labels: a few
  hundred lines of string formatting draw them in milliseconds, with nothing to import.
* **Layout without measuring fonts.** Label widths are estimated (a wide CJK character is
  an em, anything else ~0.6 em, :func:`text_width`), which is all the layout needs: the
  label column of the criteria chart and the legend spacing.

Coordinates are in a ``viewBox``; the HTML's CSS scales each chart to the page width.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from html import escape

from .model import Bucket, CriterionStat, Histogram

BLUE = "#2563eb"
GREEN = "#16a34a"
RED = "#dc2626"
GREY = "#cbd5e1"
DARK = "#334155"
AXIS = "#94a3b8"
GRID = "#e2e8f0"

#: The charts' font stack: Latin first, then the CJK fonts common on each system, then the
#: browser's default sans-serif (which draws any glyph the others lack).
FONT_STACK = (
    "'DejaVu Sans', 'Helvetica Neue', Arial, 'PingFang SC', 'Hiragino Sans GB', "
    "'Microsoft YaHei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', "
    "sans-serif"
)
FONT_SIZE = 12


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """About how wide a label is: wide (CJK) characters an em, others ~0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def nice_ticks(top: float, n: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top`` (about ``n`` of them: steps of 1, 2, 5)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def _n(x: float) -> str:
    """A coordinate: one decimal, no trailing zeros (keeps the file small)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _tick(v: float) -> str:
    return f"{v:g}"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: float | None = None,
    color: str = DARK,
    baseline: str = "middle",
    rotate: bool = False,
    weight: str | None = None,
) -> str:
    attrs = f'x="{_n(x)}" y="{_n(y)}" fill="{color}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if baseline != "auto":
        attrs += f' dominant-baseline="{baseline}"'
    if size is not None:
        attrs += f' font-size="{_n(size)}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if rotate:
        attrs += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
    return f"<text {attrs}>{escape(text)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, color: str, extra: str = "") -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{color}"{extra}/>'
    )


def _rect(x: float, y: float, w: float, h: float, color: str) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{color}"/>'


def _svg(name: str, width: float, height: float, body: list[str]) -> str:
    """One chart element to inline: scalable (viewBox), labelled, with the font stack."""
    return (
        f'<svg class="chart" role="img" aria-label="{escape(name)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" xmlns="http://www.w3.org/2000/svg" '
        f'style="font-family: {FONT_STACK}; font-size: {FONT_SIZE}px;">' + "".join(body) + "</svg>"
    )


def _polylines(points: Sequence[tuple[float, float] | None], color: str, dash: bool) -> str:
    """Lines through the points, broken where a point is missing (a day without chats)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if p is None:
            runs.append([])
        else:
            runs[-1].append(p)
    style = ' stroke-dasharray="6 4"' if dash else ""
    return "".join(
        f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in run)}" fill="none" '
        f'stroke="{color}" stroke-width="1.8"{style}/>'
        for run in runs
        if len(run) > 1
    )


def _legend(x: float, y: float, items: Sequence[tuple[str, str, str]]) -> list[str]:
    """A row of legend entries ``(label, color, kind)``; kind is line, dash or box."""
    out = []
    for label, color, kind in items:
        if kind == "box":
            out.append(_rect(x, y - 5, 14, 10, color))
        else:
            dash = ' stroke-dasharray="4 3"' if kind == "dash" else ""
            out.append(_line(x, y, x + 16, y, color, f' stroke-width="1.8"{dash}'))
        out.append(_text(x + 20, y, label, size=11))
        x += 20 + text_width(label, 11) + 18
    return out


def score_trend_svg(buckets: Sequence[Bucket], title: str) -> str:
    """Mean score and pass rate (both 0-100) per day or week, chats audited as grey bars."""
    width, height = 1000.0, 320.0
    left, right, top, bottom = 64.0, 78.0, 40.0, 36.0
    plot_w, plot_h = width - left - right, height - top - bottom
    y0 = top + plot_h
    n = max(1, len(buckets))
    slot = plot_w / n
    vol_ticks = nice_ticks(max([b.chats for b in buckets] + [1]))
    vol_top = vol_ticks[-1]
    body: list[str] = []
    for pct in (0, 20, 40, 60, 80, 100):  # left axis: score and pass rate, 0-100
        y = y0 - plot_h * pct / 105
        body.append(_line(left, y, left + plot_w, y, GRID))
        body.append(_text(left - 6, y, str(pct), anchor="end"))
    for v in vol_ticks:  # right axis: chats audited
        y = y0 - plot_h * v / vol_top
        body.append(_text(left + plot_w + 6, y, _tick(v)))
    for i, b in enumerate(buckets):  # volume bars, behind the lines
        if b.chats:
            h = plot_h * b.chats / vol_top
            body.append(_rect(left + slot * (i + 0.2), y0 - h, slot * 0.6, h, GREY))
    body.append(_line(left, top, left, y0, AXIS))
    body.append(_line(left + plot_w, top, left + plot_w, y0, AXIS))
    body.append(_line(left, y0, left + plot_w, y0, AXIS))
    xs = [left + slot * (i + 0.5) for i in range(len(buckets))]
    mean = [
        None if b.mean_score is None else (x, y0 - plot_h * b.mean_score / 105)
        for x, b in zip(xs, buckets, strict=True)
    ]
    rate = [
        None if b.pass_rate is None else (x, y0 - plot_h * 100 * b.pass_rate / 105)
        for x, b in zip(xs, buckets, strict=True)
    ]
    body.append(_polylines(mean, BLUE, dash=False))
    body.append(_polylines(rate, GREEN, dash=True))
    for p in mean:
        if p is not None:
            body.append(f'<circle cx="{_n(p[0])}" cy="{_n(p[1])}" r="3" fill="{BLUE}"/>')
    for p in rate:
        if p is not None:
            body.append(_rect(p[0] - 2.5, p[1] - 2.5, 5, 5, GREEN))
    step = max(1, len(buckets) // 10)
    for i in range(0, len(buckets), step):
        label = buckets[i].label
        body.append(
            _text(xs[i], y0 + 14, label[5:] if len(label) == 10 else label, anchor="middle")
        )
    body.append(_text(16, top + plot_h / 2, "score / pass rate %", anchor="middle", rotate=True))
    body.append(_text(width - 10, top + plot_h / 2, "chats audited", anchor="middle", rotate=True))
    body += _legend(
        left,
        16,
        [
            ("mean score", BLUE, "line"),
            ("pass rate %", GREEN, "dash"),
            ("chats audited", GREY, "box"),
        ],
    )
    return _svg(title, width, height, body)


def timing_svg(h: Histogram) -> str:
    """A response-time histogram with its limit drawn and the share over it written."""
    width, height = 520.0, 300.0
    left, right, top, bottom = 58.0, 16.0, 44.0, 50.0
    plot_w, plot_h = width - left - right, height - top - bottom
    y0 = top + plot_h
    n = len(h.counts)
    span = n * h.bin_width_s  # the x axis: 0 .. the end of the last bin
    ticks = nice_ticks(max([*h.counts, 1]))
    y_top = ticks[-1]

    def x_of(seconds: float) -> float:
        return left + plot_w * seconds / span

    body: list[str] = []
    for v in ticks:
        y = y0 - plot_h * v / y_top
        body.append(_line(left, y, left + plot_w, y, GRID))
        body.append(_text(left - 6, y, _tick(v), anchor="end"))
    for i, count in enumerate(h.counts):
        lo = i * h.bin_width_s
        if count:
            bar_h = plot_h * count / y_top
            color = RED if lo >= h.limit_s else BLUE
            body.append(_rect(x_of(lo), y0 - bar_h, plot_w / n * 0.92, bar_h, color))
    body.append(_line(left, top, left, y0, AXIS))
    body.append(_line(left, y0, left + plot_w, y0, AXIS))
    lx = x_of(h.limit_s)
    body.append(_line(lx, top, lx, y0, RED, ' stroke-width="1.5" stroke-dasharray="6 4"'))
    last = (n - 1) * h.bin_width_s
    for seconds, label in (
        (0.0, "0"),
        (h.limit_s, f"{h.limit_s:g}"),
        (2 * h.limit_s, f"{2 * h.limit_s:g}"),
        (last, f"≥{last:g}"),
    ):
        body.append(_line(x_of(seconds), y0, x_of(seconds), y0 + 4, AXIS))
        body.append(_text(x_of(seconds), y0 + 15, label, anchor="middle"))
    body.append(_text(left + plot_w / 2, height - 10, "seconds", anchor="middle"))
    body.append(_text(14, top + plot_h / 2, "chats", anchor="middle", rotate=True))
    body.append(_text(left, 16, h.title, size=13, weight="600"))
    over = "n/a" if h.share_over is None else f"{h.share_over:.1%} over"
    body.append(
        _text(left + plot_w, top - 8, f"limit {h.limit_s:g} s · {over}", anchor="end", color=RED)
    )
    return _svg(f"timing-{h.metric}", width, height, body)


def criteria_svg(
    criteria: Sequence[CriterionStat], team: dict[str, float | None] | None = None, limit: int = 12
) -> str:
    """Horizontal bars: share of chats failing each criterion; team marks for an agent."""
    top_rows = list(criteria[:limit])
    labels = [c.title for c in top_rows]  # ids are in the table below
    width = 1000.0
    row_h = 24.0
    label_w = min(width / 2, max(text_width(t) for t in labels) + 14)
    left, right, top, bottom = label_w, 24.0, 26.0 if team is not None else 10.0, 44.0
    plot_w = width - left - right
    plot_h = row_h * len(top_rows)
    height = top + plot_h + bottom
    shares = [100 * (c.share or 0.0) for c in top_rows]
    team_shares = [100 * (team.get(c.criterion) or 0.0) for c in top_rows] if team else []
    x_top = max([*shares, *team_shares, 1.0]) * 1.25
    ticks = [t for t in nice_ticks(x_top) if t <= x_top]

    def x_of(pct: float) -> float:
        return left + plot_w * pct / x_top

    body: list[str] = []
    y0 = top + plot_h
    for v in ticks:
        body.append(_line(x_of(v), top, x_of(v), y0, GRID))
        body.append(_text(x_of(v), y0 + 14, _tick(v), anchor="middle"))
    for i, (c, s) in enumerate(zip(top_rows, shares, strict=True)):
        y = top + row_h * (i + 0.5)
        color = RED if c.severity == "fatal" else BLUE
        body.append(_rect(left, y - row_h * 0.3, x_of(s) - left, row_h * 0.6, color))
        body.append(_text(left - 8, y, c.title, anchor="end"))
        body.append(_text(x_of(s) + 4, y, f"{c.failed} ({s:.1f}%)", size=11))
        if team is not None:
            tx = x_of(team_shares[i])
            body.append(
                _line(tx, y - row_h * 0.42, tx, y + row_h * 0.42, DARK, ' stroke-width="2"')
            )
    body.append(_line(left, top, left, y0, AXIS))
    body.append(_line(left, y0, left + plot_w, y0, AXIS))
    body.append(_text(left + plot_w / 2, height - 10, "% of chats failing", anchor="middle"))
    if team is not None:
        body.append(_line(width - 60, 12, width - 60, 24, DARK, ' stroke-width="2"'))
        body.append(_text(width - 54, 18, "team", size=11))
    return _svg("criteria", width, height, body)


def sparkline_svg(values: Sequence[float | None], *, width: int = 120, height: int = 28) -> str:
    """A tiny score line (0-100) for an agent table row; gaps where a day had no chats."""
    n = len(values)
    if n == 0 or all(v is None for v in values):
        return ""
    dx = width / max(1, n - 1)
    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
            continue
        y = height - 2 - (height - 4) * max(0.0, min(100.0, v)) / 100
        segments[-1].append(f"{i * dx:.1f},{y:.1f}")
    lines = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
        if len(s) > 1
        else f'<circle cx="{s[0].split(",")[0]}" cy="{s[0].split(",")[1]}" r="1.8" fill="{BLUE}"/>'
        for s in segments
        if s
    )
    label = escape(" ".join("–" if v is None else f"{v:.0f}" for v in values))
    return (
        f'<svg class="spark" viewBox="-2 0 {width + 4} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{label}">{lines}</svg>'
    )
