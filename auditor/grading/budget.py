"""The run budget behind ``--max-cost`` and ``--max-tokens``.

Checked before every request that would go over the network (answers from the call log
are free and always allowed). Once spent, the next request raises ``BudgetExceeded``
instead of being sent; the pipeline stops cleanly, and because every finished chat and
every successful call is stored, re-running the same command later resumes where it
stopped and re-pays nothing.

Requests already in flight when the budget runs out still complete and are counted, so a
run can overshoot by at most ``concurrency`` requests; that is the price of not
serialising requests on a guess of their cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BudgetExceeded


@dataclass
class RunBudget:
    max_cost_usd: float | None = None
    max_tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0

    @property
    def limited(self) -> bool:
        return self.max_cost_usd is not None or self.max_tokens is not None

    def exhausted_reason(self) -> str | None:
        if self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd:
            return f"the run budget of ${self.max_cost_usd:g} is spent (${self.spent_usd:.4f})"
        if self.max_tokens is not None and self.spent_tokens >= self.max_tokens:
            return f"the run budget of {self.max_tokens} tokens is spent ({self.spent_tokens})"
        return None

    def check(self) -> None:
        """Raise ``BudgetExceeded`` if the next request must not be sent."""
        reason = self.exhausted_reason()
        if reason:
            raise BudgetExceeded(
                f"{reason}; finished chats are stored — raise --max-cost/--max-tokens and "
                "run the same command again to resume"
            )

    def charge(self, tokens: int, cost_usd: float | None) -> None:
        self.spent_tokens += tokens
        if cost_usd is not None:
            self.spent_usd += cost_usd
