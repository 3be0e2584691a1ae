"""`auditor watch DIR`: audit a drop folder's files as they land (a thin layer over watching.py)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

import click

from .ingest_options import input_options
from .options import build_grader, db_option, grader_options, open_store


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False), metavar="DIR")
@click.option("--rubric", default="auto", show_default=True, help="Rubric name or YAML path.")
@db_option
@input_options
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between looks at the folder.")  # fmt: skip
@click.option("--once", is_flag=True, help="Audit what is there now, then exit.")
@grader_options
@click.option("--concurrency", type=int, default=None, help="Chats graded at once.")
def watch(
    folder: str,
    rubric: str,
    db_path: str | None,
    ingest_options: Any,
    interval: float,
    once: bool,
    concurrency: int | None,
    **grading: Any,
) -> None:
    """Audit each new or grown file in DIR as it lands, until Ctrl-C (or SIGTERM).

    JSON Lines files are audited line by line as they grow (a last line still being
    written waits until it is complete); CSV, Excel and JSON-array files once they stop
    changing, and again when they change. Progress per file is stored in the database, so
    stopping and starting again (even after kill -9) loses nothing and audits nothing twice.

    \b
    Examples:
      auditor watch /srv/drop --tz Asia/Shanghai --mapping console.yaml
      auditor watch exports/ --once
    """
    from auditor.pipeline import run_audit
    from auditor.watching import WatchStatus
    from auditor.watching import watch as watch_folder

    store = open_store(db_path)
    grader = build_grader(store, concurrency=concurrency, **grading)
    if concurrency is None:
        concurrency = 1 if grader.name == "offline" else 8
    command = " ".join(["auditor", *sys.argv[1:]])

    def audit(paths: list[str], items: Iterable[Any]) -> dict[str, int]:
        summary = run_audit(paths, store=store, grader=grader, rubric_spec=rubric,
                            ingest_options=ingest_options, concurrency=concurrency, command=command,
                            items=items)  # fmt: skip
        return summary.counts()

    tty = sys.stderr.isatty()
    last = [""]

    def show(status: WatchStatus) -> None:
        text = status.line()
        if text != last[0]:
            last[0] = text
            click.echo(("\r\x1b[2K" if tty else "") + text, err=True, nl=not tty)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        status = watch_folder(Path(folder), store, ingest_options, audit, interval=interval, once=once,
                              on_status=show)  # fmt: skip
    except KeyboardInterrupt:
        click.echo(("\n" if tty else "") + f"Stopped. {last[0]}", err=True)
        click.echo("What was audited is saved; run the same command to continue.", err=True)
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
    if tty:
        click.echo("", err=True)
    click.echo(status.line())
