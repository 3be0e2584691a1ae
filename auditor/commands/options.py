"""Options shared by commands that grade (`audit`, `eval`): one definition, one way to build."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..grading import Grader
    from ..grading.base import CallLog
    from ..store import Store

#: The graders ``make_grader`` builds (auditor.grading.GRADERS; kept here so that parsing
#: options imports no grader: ``auditor --help`` loads nothing heavy).
GRADERS = ("offline", "openai")

F = TypeVar("F", bound=Callable[..., Any])


def grader_options(func: F) -> F:
    """--grader, --model, --base-url, --response-format, --samples, --temperature, --timeout,
    --max-cost, --max-tokens."""
    options = [
        click.option(
            "--grader",
            type=click.Choice(GRADERS),
            default="offline",
            show_default=True,
            help="Who grades the soft criteria: offline cue rules (no network) or an "
            "OpenAI-compatible model.",
        ),
        click.option("--model", default=None, help="Model name for --grader openai."),
        click.option(
            "--base-url",
            default=None,
            help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, else OpenAI).",
        ),
        click.option(
            "--response-format",
            type=click.Choice(["auto", "json_schema", "json_object"]),
            default="auto",
            show_default=True,
            help="How the model is asked for JSON: auto (json_schema, falling back to "
            "json_object when the server rejects it), or always one of the two.",
        ),
        click.option(
            "--samples",
            type=int,
            default=1,
            show_default=True,
            help="Samples per chat (the API's n); their agreement sets the confidence.",
        ),
        click.option(
            "--temperature",
            type=float,
            default=None,
            help="Sampling temperature (default: 0 for one sample, 0.7 for several).",
        ),
        click.option(
            "--timeout",
            type=float,
            default=120.0,
            show_default=True,
            help="Seconds before a model request is abandoned and retried.",
        ),
        click.option(
            "--max-cost",
            type=float,
            default=None,
            help="Stop cleanly once this many USD are spent (resume later).",
        ),
        click.option(
            "--max-tokens",
            type=int,
            default=None,
            help="Stop cleanly once this many tokens are spent (resume later).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_grader(
    call_log: CallLog,
    *,
    grader: str,
    model: str | None,
    base_url: str | None,
    samples: int,
    response_format: str = "auto",
    temperature: float | None,
    timeout: float,
    max_cost: float | None,
    max_tokens: int | None,
    concurrency: int | None,
) -> Grader:
    from ..grading import make_grader

    if grader != "openai":
        given = [
            name
            for name, value in (
                ("--model", model),
                ("--base-url", base_url),
                ("--max-cost", max_cost),
                ("--max-tokens", max_tokens),
                ("--temperature", temperature),
            )
            if value is not None
        ]
        if response_format != "auto":
            given.append("--response-format")
        if given or samples != 1:
            raise UsageError(f"{', '.join(given) or '--samples'} only apply with --grader openai")
        return make_grader(grader)
    opts: dict[str, Any] = {
        "model": model,
        "base_url": base_url,
        "samples": samples,
        "temperature": temperature,
        "timeout": timeout,
        "max_cost": max_cost,
        "max_tokens": max_tokens,
        "response_format": response_format,
    }
    if concurrency:
        opts["concurrency"] = concurrency
    return make_grader(grader, call_log=call_log, **opts)


db_option = click.option(
    "--db",
    "db_path",
    default=None,
    metavar="PATH",
    help="SQLite database (default: $AUDITOR_DB or ./audit.db).",
)


def open_store(db_path: str | None, *, readonly: bool = False) -> Store:
    """Settings order: --db, then $AUDITOR_DB, then ./audit.db."""
    from ..store import Store, default_db_path

    return Store(db_path or default_db_path(), readonly=readonly)
