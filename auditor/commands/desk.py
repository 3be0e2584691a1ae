"""`auditor users …` (who may use the review desk) and `auditor serve` (the desk itself).

A thin layer over auditor.desk; the desk is described in docs/review.md ("The review desk").
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from auditor.commands.options import db_option, open_store

console = Console()


@click.group()
def users() -> None:
    """Users of the review desk (`auditor serve`): add, list, disable.

    Roles: reviewer (works the queue), lead (also resolves disputes and runs calibration
    sessions), agent (sees only their own chats, scores, reviews and disputes).

    \b
    Examples:
      auditor users add wang --role reviewer
      auditor users add lina --role agent --agent-id kf_lina
      auditor users list
      auditor users disable wang
    """


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "lead", "agent"]), required=True)
@click.option("--agent-id", default=None, help="For an agent: their agent id in the chats.")
@db_option
def add_command(name: str, role: str, agent_id: str | None, db_path: str | None) -> None:
    """Add a user and print their login token (once: only its hash is stored).

    \b
    Examples:
      auditor users add wang --role reviewer
      auditor users add lina --role agent --agent-id kf_lina
    """
    from auditor.review.users import add_user

    store = open_store(db_path, readonly=True)
    user, token = add_user(store, name, role, agent_id)
    click.echo(
        f"added {user.role} {user.name}" + (f" (agent {user.agent_id})" if user.agent_id else ""),
        err=True,
    )
    click.echo("login token (shown once, keep it safe):", err=True)
    click.echo(token)


@users.command("list")
@db_option
def list_command(db_path: str | None) -> None:
    """List the desk's users, their roles and whether they are disabled.

    \b
    Examples:
      auditor users list
    """
    from auditor.store_desk import DeskTables

    store = open_store(db_path, readonly=True)
    rows = DeskTables(store).users()
    if not rows:
        console.print("No users yet: `auditor users add NAME --role reviewer`.")
        return
    t = Table(title="Review desk users")
    for col in ("name", "role", "agent", "added", "disabled"):
        t.add_column(col)
    for u in rows:
        t.add_row(u.name, u.role, u.agent_id or "", u.created_at[:16], (u.disabled_at or "")[:16])
    console.print(t)


@users.command("disable")
@click.argument("name")
@db_option
def disable_command(name: str, db_path: str | None) -> None:
    """Disable a user: their token stops working at once; their claims are released.

    \b
    Examples:
      auditor users disable wang
    """
    from auditor.review.users import disable_user

    user = disable_user(open_store(db_path, readonly=True), name)
    click.echo(f"disabled {user.name} at {user.disabled_at}")


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (each with its own SQLite connections; one per CPU is plenty).",
)
def serve(db_path: str | None, host: str, port: int, workers: int) -> None:
    """Serve the review desk: the queue, chat pages, disputes, calibration, agents' pages.

    Log in with a token from `auditor users add`. The JSON API (docs/review.md) takes
    `Authorization: Bearer TOKEN`. Everything is served from this process; no page loads
    anything from elsewhere, so it works offline.

    \b
    Examples:
      auditor serve --db audit.db
      auditor serve --host 0.0.0.0 --port 8080
    """
    import os
    import secrets

    import uvicorn

    from auditor.desk.app import create_app
    from auditor.store import default_db_path

    path = db_path or default_db_path()
    app = create_app(path)  # opens the database now: a wrong path fails here, clearly
    click.echo(f"review desk on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    if workers == 1:
        # No access log: at log level warning it prints nothing, yet each request still
        # built its log call.
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    # Worker processes build their own app; they share the session key through the
    # environment so that a cookie signed by one is valid in all.
    os.environ["AUDITOR_DESK_DB"] = str(Path(path).resolve())
    os.environ.setdefault("AUDITOR_DESK_SECRET", secrets.token_urlsafe(32))
    uvicorn.run(
        "auditor.desk.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
