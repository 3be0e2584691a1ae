"""Charts as inline SVG: matplotlib for the three charts, a hand-drawn SVG for sparklines.

Why these choices:

* **SVG with ``svg.fonttype = 'none'``**: text stays text, so the browser renders labels
  with its own fonts (Chinese criterion titles included) and they stay searchable and
  crisp at any zoom; the HTML's CSS picks the font stack.
* **No pyplot**: figures are built from :class:`matplotlib.figure.Figure` and written by the
  SVG canvas: no GUI backend is ever loaded (as safe as forcing Agg) and pyplot's global
  state is left alone for whoever embeds the library.
* **Layout fonts**: matplotlib still measures text to lay the chart out; a CJK font found by
  ``fc-list :lang=zh`` is registered so Chinese labels are measured right. Without one the
  layout is approximate but the browser still shows the text.
* **Sparklines by hand**: the team report has one per agent (~50); a matplotlib figure
  costs tens of milliseconds, a polyline costs nothing.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
import unicodedata
import warnings
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .model import Bucket, CriterionStat, Histogram

BLUE = "#2563eb"
GREEN = "#16a34a"
RED = "#dc2626"
GREY = "#cbd5e1"
DARK = "#334155"

#: Appended to every SVG font-family: the browser draws any glyph the layout font lacks.
BROWSER_FALLBACK = (
    "'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', "
    "'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif"
)
#: Used for layout only (see the module docstring); the browser's fonts draw the text.
LATIN_FONTS = ["DejaVu Sans", "Liberation Sans", "Arial"]


@functools.cache
def cjk_font_families() -> tuple[str, ...]:
    """Families of installed fonts that cover Chinese, registered with matplotlib."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    paths = sorted(
        {line.split(":")[0].strip() for line in out.splitlines() if line.strip()},
        key=lambda p: ("Regular" not in p, p),
    )
    paths = [p for p in paths if "Serif" not in p and "Mono" not in p] or paths
    families: list[str] = []
    for path in paths[:4]:
        try:
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
        if name not in families:
            families.append(name)
    return tuple(families)


def _rc() -> Any:
    """The charts' rcParams (typed Any: matplotlib's stubs want a literal-keyed dict)."""
    return {
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        # A CJK font first: it has Latin glyphs too, so every label is measured by one font.
        "font.sans-serif": [*cjk_font_families(), *LATIN_FONTS],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#94a3b8",
        "axes.labelcolor": DARK,
        "xtick.color": DARK,
        "ytick.color": DARK,
        "axes.grid": True,
        "grid.color": "#e2e8f0",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
    }


_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_SIZE_ATTRS = re.compile(r'(<svg[^>]*?)\s(width|height)="[^"]*"')


def _to_svg(fig: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element to inline: no XML prolog, scalable width."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}), warnings.catch_warnings():
        # A glyph missing from the layout font is drawn by the browser anyway.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        # Margins are set by each chart: bbox_inches="tight" would draw everything twice,
        # and drawing is most of a report's run time.
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = _METADATA.sub("", text, count=1)  # creator/format RDF: noise in a report
    # After the layout font, let the browser fall back to its own fonts for CJK glyphs.
    text = text.replace(", sans-serif", ", " + BROWSER_FALLBACK)
    for _ in range(2):
        text = _SIZE_ATTRS.sub(r"\1", text, count=1)
    label = escape(name)  # names are fixed strings today; escaped all the same
    return text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{label}" ', 1)


def _text_width_pt(text: str, size: float) -> float:
    """About how wide a label is: wide (CJK) characters an em, others ~0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def score_trend_svg(buckets: Sequence[Bucket], title: str) -> str:
    """Mean score and pass rate (both 0-100) per day or week, chats audited as grey bars."""
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(10, 3.2))
        ax = fig.add_subplot()
        vol = ax.twinx()
        xs = list(range(len(buckets)))
        vol.bar(xs, [b.chats for b in buckets], color=GREY, width=0.6, label="chats audited")
        vol.set_ylabel("chats audited")
        vol.yaxis.set_major_locator(MaxNLocator(integer=True))
        vol.grid(False)
        vol.spines["right"].set_visible(True)
        fig.subplots_adjust(left=0.065, right=0.935, bottom=0.11, top=0.87)
        ax.set_zorder(vol.get_zorder() + 1)
        ax.patch.set_visible(False)
        mean = [b.mean_score for b in buckets]
        rate = [None if b.pass_rate is None else 100 * b.pass_rate for b in buckets]
        ax.plot(
            xs,
            [float("nan") if v is None else v for v in mean],
            "o-",
            color=BLUE,
            label="mean score",
            markersize=3,
        )
        ax.plot(
            xs,
            [float("nan") if v is None else v for v in rate],
            "s--",
            color=GREEN,
            label="pass rate %",
            markersize=3,
        )
        ax.set_ylim(0, 105)
        ax.set_ylabel("score / pass rate %")
        step = max(1, len(buckets) // 10)
        ax.set_xticks(xs[::step])
        ax.set_xticklabels(
            [b.label[5:] if len(b.label) == 10 else b.label for b in buckets][::step]
        )
        handles = ax.get_legend_handles_labels()
        vh = vol.get_legend_handles_labels()
        ax.legend(
            handles[0] + vh[0],
            handles[1] + vh[1],
            loc="lower left",
            fontsize=8,
            frameon=False,
            ncol=3,
            bbox_to_anchor=(0, 1.0),
        )
        return _to_svg(fig, title)


def timing_svg(h: Histogram) -> str:
    """A response-time histogram with its limit drawn and the share over it written."""
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(5.2, 3.0))
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.14, right=0.97, bottom=0.17, top=0.85)
        lefts = [i * h.bin_width_s for i in range(len(h.counts))]
        colors = [RED if left >= h.limit_s else BLUE for left in lefts]
        ax.bar(lefts, h.counts, width=h.bin_width_s * 0.92, align="edge", color=colors)
        ax.axvline(h.limit_s, color=RED, linestyle="--", linewidth=1.2)
        over = "n/a" if h.share_over is None else f"{h.share_over:.1%} over"
        ax.text(
            1.0,
            1.02,
            f"limit {h.limit_s:g} s · {over}",
            color=RED,
            fontsize=8,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
        )
        last = lefts[-1]
        ax.set_xticks([0, h.limit_s, 2 * h.limit_s, last])
        ax.set_xticklabels(["0", f"{h.limit_s:g}", f"{2 * h.limit_s:g}", f"≥{last:g}"])
        ax.set_xlabel("seconds")
        ax.set_ylabel("chats")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(h.title, loc="left", fontsize=10, color=DARK)
        return _to_svg(fig, f"timing-{h.metric}")


def criteria_svg(
    criteria: Sequence[CriterionStat], team: dict[str, float | None] | None = None, limit: int = 12
) -> str:
    """Horizontal bars: share of chats failing each criterion; team marks for an agent."""
    top = list(criteria[:limit])[::-1]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(10, 0.3 * len(top) + 0.8))
        ax = fig.add_subplot()
        ys = list(range(len(top)))
        shares = [100 * (c.share or 0.0) for c in top]
        colors = [RED if c.severity == "fatal" else BLUE for c in top]
        ax.barh(ys, shares, color=colors, height=0.6)
        for y, c, s in zip(ys, top, shares, strict=True):
            ax.text(s, y, f" {c.failed} ({s:.1f}%)", va="center", fontsize=8, color=DARK)
        if team is not None:
            tx = [100 * (team.get(c.criterion) or 0.0) for c in top]
            ax.scatter(tx, ys, marker="|", s=180, color=DARK, label="team", zorder=3)
            ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.set_yticks(ys)
        labels = [c.title for c in top]  # ids are in the table below
        ax.set_yticklabels(labels)
        label_pt = max(_text_width_pt(t, 9) for t in labels) + 12
        fig.subplots_adjust(
            left=min(0.5, label_pt / (10 * 72)),
            right=0.97,
            bottom=0.55 / fig.get_figheight(),
            top=1 - 0.2 / fig.get_figheight(),
        )
        ax.set_xlabel("% of chats failing")
        ax.set_xlim(0, max([*shares, 1.0]) * 1.25)
        ax.grid(axis="y", visible=False)
        return _to_svg(fig, "criteria")


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
