"""Number formatting shared by the HTML and Markdown renderings, so both print alike."""

from __future__ import annotations

DASH = "–"  # shown where a figure is undefined (no chats, nothing timed)


def pct(x: float | None, digits: int = 1) -> str:
    """A share in 0..1 as a percentage: 0.5 -> '50.0%'."""
    return DASH if x is None else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 1) -> str:
    return DASH if x is None else f"{x:,.{digits}f}"


def secs(x: float | None) -> str:
    if x is None:
        return DASH
    return f"{x:.0f} s" if x < 120 else f"{x / 60:.1f} min"


def delta_points(now: float | None, before: float | None, *, scale: float = 1.0) -> str:
    """A change as signed points ('+3.1', '−2.0'); scale=100 turns shares into % points."""
    if now is None or before is None:
        return ""
    d = (now - before) * scale
    if abs(d) < 0.05:
        return "±0.0"
    return f"+{d:.1f}" if d > 0 else f"−{abs(d):.1f}"


def quote(text: str | None, limit: int = 120) -> str:
    """An evidence quote, shortened for a table cell (the full text is in `auditor show`)."""
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
