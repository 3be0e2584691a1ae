"""Building IngestOptions from the input options of `audit` and `watch` (one way, one place)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..ingest import IngestOptions

#: the --format choices, spelled out so `--help` imports no ingest code (equal to
#: auditor.ingest.FORMATS; a test keeps them equal)
INPUT_FORMATS: list[str] = [
    "auto", "jsonl", "csv", "twcs", "xlsx", "zendesk", "intercom", "livechat", "freshchat",
]  # fmt: skip


#: the parameters `input_options` adds, popped and turned into one ``ingest_options`` argument
_INPUT_PARAMS = (
    "tz", "fmt", "csv_columns", "role_values", "mapping_path", "earliest_ts", "max_message_chars",
)  # fmt: skip


def input_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How chats are read, for `audit` and `watch`: the command gets ``ingest_options``."""

    @functools.wraps(f)
    def command(**kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in _INPUT_PARAMS}
        return f(ingest_options=build_ingest_options(**given), **kwargs)

    options = [
        click.option(
            "--tz",
            default="UTC",
            show_default=True,
            help="Time zone for naive timestamps (e.g. Asia/Shanghai).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(INPUT_FORMATS),
            default="auto",
            show_default=True,
            help="Input format (auto: by name and content; twcs: Twitter customer-support "
            "threads; zendesk, intercom, livechat, freshchat: helpdesk API records; xlsx: Excel).",
        ),
        click.option(
            "--column",
            "--csv-column",
            "csv_columns",
            multiple=True,
            metavar="FIELD=HEADER",
            help="Map a CSV/Excel header to a field, e.g. --column chat_id=会话ID (repeatable).",
        ),
        click.option(
            "--role-value",
            "role_values",
            multiple=True,
            metavar="WORD=ROLE",
            help="A CSV/Excel role-column word and its role, e.g. --role-value 小二=agent "
            "(repeatable).",
        ),
        click.option(
            "--mapping",
            "mapping_path",
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help="A saved mapping (YAML: columns, role_values, tz); options given here win.",
        ),
        click.option(
            "--earliest-ts",
            default="2000-01-01",
            show_default=True,
            metavar="DATE",
            help="Reject chats with a message time before this day (UTC), or over a day ahead.",
        ),
        click.option(
            "--max-message-chars",
            type=click.IntRange(min=1),
            default=20_000,
            show_default=True,
            help="Audit only this many characters of a longer message (with a warning).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_ingest_options(
    *,
    tz: str,
    fmt: str,
    csv_columns: tuple[str, ...],
    role_values: tuple[str, ...],
    mapping_path: str | None,
    earliest_ts: str = "2000-01-01",
    max_message_chars: int = 20_000,
) -> IngestOptions:
    """Flags win over a saved ``--mapping`` file, which wins over the defaults."""
    from ..ingest import IngestOptions, parse_column_mapping
    from ..ingest.mapping import load_mapping
    from ..ingest.role_values import parse_role_values

    columns: dict[str, str] = {}
    roles: dict[str, str] = {}
    if mapping_path:
        saved = load_mapping(mapping_path)
        columns.update(saved.columns)
        roles.update(saved.role_values)
        ctx = click.get_current_context(silent=True)
        tz_given = (
            ctx is not None
            and ctx.get_parameter_source("tz") is not click.core.ParameterSource.DEFAULT
        )
        if saved.tz and not tz_given:
            tz = saved.tz
    columns.update(parse_column_mapping(csv_columns))
    roles.update(parse_role_values(role_values))
    return IngestOptions(
        tz=tz,
        format=fmt,  # type: ignore[arg-type]  # one of FORMATS (click.Choice)
        csv_columns=columns,
        role_values=roles,
        earliest_ts=earliest_ts,
        max_message_chars=max_message_chars,
    )
