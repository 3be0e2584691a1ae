"""Building IngestOptions from the input options of `audit` and `watch` (one way, one place)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..ingest import IngestOptions

#: the --format choices, spelled out so `--help` imports no ingest code (equal to
#: auditor.ingest.FORMATS; a test keeps them equal)
INPUT_FORMATS: list[str] = [
    "auto", "jsonl", "csv", "twcs", "xlsx", "zendesk", "intercom", "livechat", "freshchat",
]  # fmt: skip


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
