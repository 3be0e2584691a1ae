"""What a call costs: a small price table per model, in USD per 1M tokens.

Prices change; the table is a convenience, not a source of truth. Override or extend it
with a YAML/JSON file named by ``AUDITOR_PRICES`` (``{model: {input, cached, output}}``)
or the ``prices`` argument of the grader. A model that is not in the table has an
*unknown* cost (``None``), never 0: a run with ``--max-cost`` refuses to start for it rather
than spend without counting (use ``--max-tokens`` instead, or add the price).

Dated snapshots resolve to their family by the longest matching prefix
(``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ConfigurationError


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens: fresh input, cached input, output."""

    input: float
    cached: float
    output: float


#: List prices as published by the providers (USD / 1M tokens), checked 2025.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "deepseek-chat": Price(0.27, 0.07, 1.10),
}


def load_price_file(path: str | Path) -> dict[str, Price]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return {
            str(model): Price(
                float(p["input"]), float(p.get("cached", p["input"])), float(p["output"])
            )
            for model, p in data.items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise ConfigurationError(
            f"invalid price file {path}: {e}; expected {{model: {{input, cached, output}}}} in USD per 1M tokens"
        ) from e


class PriceTable:
    def __init__(self, overrides: Mapping[str, Price] | None = None, *, use_env: bool = True):
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES)
        env = os.environ.get("AUDITOR_PRICES") if use_env else None
        if env:
            self.prices.update(load_price_file(env))
        if overrides:
            self.prices.update(overrides)

    def price(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        best = max((m for m in self.prices if model.startswith(m + "-")), key=len, default=None)
        return self.prices[best] if best else None

    def cost(
        self, model: str, tokens_in: int, tokens_out: int, tokens_cached: int = 0
    ) -> float | None:
        """USD for one call, or None when the model's price is unknown."""
        p = self.price(model)
        if p is None:
            return None
        cached = min(tokens_cached, tokens_in)
        return ((tokens_in - cached) * p.input + cached * p.cached + tokens_out * p.output) / 1e6
