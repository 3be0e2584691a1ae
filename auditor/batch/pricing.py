"""What a request costs through a Batch API: half the online list price, unless overridden.

OpenAI (and the providers that copy its Batch API) bill batch requests at 50 % of the
synchronous price, input and output alike, and batch input is not discounted again as a
cached prefix. A provider with other batch prices sets them in the ``AUDITOR_PRICES`` file
beside the online ones: ``{model: {input, cached, output, batch_input, batch_output}}``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ..errors import ConfigurationError
from ..grading.pricing import PriceTable

BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class BatchPrice:
    """USD per 1M tokens for batch requests."""

    input: float
    output: float


@cache
def _overrides(path: str) -> dict[str, BatchPrice]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return {
            str(m): BatchPrice(float(p["batch_input"]), float(p["batch_output"]))
            for m, p in data.items()
            if isinstance(p, dict) and "batch_input" in p and "batch_output" in p
        }
    except (OSError, yaml.YAMLError, TypeError, ValueError, AttributeError) as e:
        raise ConfigurationError(f"invalid price file {path}: {e}") from e


def batch_price(table: PriceTable, model: str) -> BatchPrice | None:
    """The batch price of ``model``: the price file's, else half the online price."""
    env = os.environ.get("AUDITOR_PRICES")
    if env:
        over = _overrides(env)
        best = max(
            (m for m in over if model == m or model.startswith(m + "-")), key=len, default=None
        )
        if best:
            return over[best]
    p = table.price(model)
    if p is None:
        return None
    return BatchPrice(p.input * BATCH_DISCOUNT, p.output * BATCH_DISCOUNT)


def batch_cost(table: PriceTable, model: str, tokens_in: int, tokens_out: int) -> float | None:
    """USD for one batch request, or None when the model's price is unknown."""
    p = batch_price(table, model)
    if p is None:
        return None
    return (tokens_in * p.input + tokens_out * p.output) / 1e6
