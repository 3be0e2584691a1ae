"""`auditor watch DIR`: audit a drop folder's files as they land (a thin layer over watching.py)."""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections.abc import Iterable, Iterator
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

    stopping = _Stop()

    def audit(paths: list[str], items: Iterable[Any]) -> dict[str, int]:
        stopping.running = True
        try:
            summary = run_audit(paths, store=store, grader=grader, rubric_spec=rubric,
                                ingest_options=ingest_options, concurrency=concurrency,
                                command=command, items=stopping.until_asked(items))  # fmt: skip
        finally:
            stopping.running = False
            # a run freezes the heap (pipeline.freeze_heap) with whatever it leaves behind,
            # cyclic garbage included, which the collector then never frees: a watcher runs
            # pass after pass, so each pass gives it back (the next run freezes again)
            gc.unfreeze()
        if stopping.asked:  # before the file's offset moves: its unread lines wait for next time
            raise KeyboardInterrupt
        return summary.counts()

    tty = sys.stderr.isatty()
    last = [""]

    def show(status: WatchStatus) -> None:
        text = status.line()
        if text != last[0]:
            last[0] = text
            click.echo(("\r\x1b[2K" if tty else "") + text, err=True, nl=not tty)

    previous = {sig: signal.signal(sig, stopping.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = watch_folder(Path(folder), store, ingest_options, audit, interval=interval, once=once,
                              on_status=show, sleep=stopping.sleep)  # fmt: skip
    except KeyboardInterrupt:
        click.echo(("\n" if tty else "") + f"Stopped. {last[0]}", err=True)
        click.echo("What was audited is saved; run the same command to continue.", err=True)
        return
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if tty:
        click.echo("", err=True)
    click.echo(status.line())


class _Stop:
    """Ctrl-C or SIGTERM, taken between chats rather than wherever Python happens to be.

    A KeyboardInterrupt raised at an arbitrary point could land in asyncio's own shutdown of
    a run (seen: the default executor's shutdown never awaited, and a watcher that hung on
    exit). So while a run is auditing, the first signal only asks: the run's chats stop
    after the current one, the run saves what it audited and ends, and then the watcher
    stops (the file's offset does not move, so the lines not read wait for the next start;
    the ones audited are skipped then by the resume rule). Between passes, or on a second
    signal, it stops at once.
    """

    def __init__(self) -> None:
        self.asked = False
        self.running = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.asked or not self.running:
            raise KeyboardInterrupt
        self.asked = True

    def until_asked(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            if self.asked:
                return
            yield item

    def sleep(self, seconds: float) -> None:
        if self.asked:
            raise KeyboardInterrupt
        time.sleep(seconds)
