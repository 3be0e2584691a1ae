"""The review desk's web layer (Starlette): server-rendered pages and the JSON API.

A thin face over the desk and review libraries, like the CLI: every route authenticates,
calls one library function (which checks the role and validates before writing) and
renders. Pages use a signed session cookie (login with the token) and a CSRF token in
every form; the API takes ``Authorization: Bearer TOKEN``. Errors come back as a page or
as JSON ``{"error": message}`` with the status the library's error carries.

SQLite connections are per thread (the server runs library calls in its thread pool);
each thread opens the store once and keeps it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import AuditorError, UsageError
from ..review import (
    PRIORITY,
    QueueFilter,
    allowed_levels,
    claims,
    disputes,
    list_queue,
    resolve_audited,
    resolve_day,
)
from ..review import sessions as calibration
from ..review.access import require_role
from ..review.errors import AccessDenied, DeskError
from ..review.users import authenticate
from ..store import Store
from ..store_desk import DeskTables, User
from .agents import agent_page
from .chatview import chat_view
from .i18n import LANGUAGES, translator

#: The largest request body accepted (bytes); a review or dispute is a few hundred.
MAX_BODY = 64 * 1024
SESSION_HOURS = 12
#: Threads running library calls (each keeps its own SQLite connection). Python runs one
#: at a time anyway; more threads only add switching and connections (anyio's default
#: is 40). Override with $AUDITOR_DESK_THREADS.
THREADS = 4
#: Queue items on a page (``?limit=``, at most ``MAX_PAGE``); ``?offset=`` pages on.
PAGE = 50
MAX_PAGE = 1000


class HTTPFailure(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def status_of(e: Exception) -> int:
    if isinstance(e, HTTPFailure):
        return e.status
    if isinstance(e, AccessDenied | DeskError):
        return e.status
    if isinstance(e, UsageError):
        return 422
    return 500


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
    )


_DICT_ATTRS = frozenset(dir(dict))


class PageEnvironment(Environment):
    """Jinja with a fast ``x.key`` on dicts (the page views are dicts).

    Jinja's ``getattr`` tries the attribute first and falls back to the key, so every
    ``m.text`` on a dict raised and caught an AttributeError: a third of the chat page's
    render time. For a plain dict the answer is the same without the exception: a dict
    method name (``.items``) is the method, anything else is the key."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRS:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Desk:
    """The app's state: the database path, the per-thread stores, the templates."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        Store(db_path, readonly=True).close()  # fail now, with the store's message, not per request
        self._local = threading.local()
        #: Library calls run in Starlette's thread pool, so the event loop keeps serving
        #: while one waits on SQLite. Measured with bench/desk_load.py (50 reviewers, ~2 s
        #: between requests): p95 210 ms threaded against 451 ms on the loop's thread.
        self.threaded = True
        folder = resources.files("auditor.desk") / "templates"
        self.env = PageEnvironment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(["j2", "html"]),
            auto_reload=False,
        )

    def store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.db_path, readonly=True)
            self._local.store = store
        return store

    def render(self, name: str, request: Request, code: int = 200, **ctx: Any) -> HTMLResponse:
        lang = page_lang(request)
        html = self.env.get_template(name).render(
            t=translator(lang), lang=lang, csrf=csrf_token(request), **ctx
        )
        return HTMLResponse(html, status_code=code)


# ---------------------------------------------------------------------------- sessions, csrf


def page_lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        request.session["lang"] = asked
    lang = request.session.get("lang")
    if lang in LANGUAGES:
        return str(lang)
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def read_form(request: Request) -> dict[str, Any]:
    """The posted form, after the CSRF check (a missing or forged token: 403)."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise HTTPFailure(413, f"request body over {MAX_BODY:,} bytes")
    form = await request.form(max_files=0, max_fields=200)
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPFailure(403, "the form's CSRF token is missing or wrong: reload the page")
    out: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key in ("reviewers",) else (values[-1] if values else "")
    return out


async def read_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPFailure(413, f"request body over {MAX_BODY:,} bytes")
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as e:
        raise HTTPFailure(400, f"the body is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise HTTPFailure(400, "the body must be a JSON object")
    return data


# ---------------------------------------------------------------------------- routes


def build_routes(desk: Desk) -> list[Route]:
    Handler = Callable[[Request, User], Awaitable[Response]]

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        """Library work, in the thread pool (see ``Desk.threaded``)."""
        if desk.threaded:
            return await run_in_threadpool(fn, *args)
        return fn(*args)

    def call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Awaitable[Any]:
        """Run ``fn(store, *args)`` in the thread pool, with that thread's store."""
        return run(lambda: fn(desk.store(), *args, **kw))

    # Who is asking is read on the event loop's thread (its own connection): one lookup by
    # key, which in WAL mode never waits for a writer, so it costs less than a thread hop.
    def page_user(request: Request) -> User | None:
        uid = request.session.get("uid")
        if not isinstance(uid, int):
            return None
        user = DeskTables(desk.store()).user(uid)
        return user if user is not None and user.active else None

    def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            user = page_user(request)
            if user is None:
                request.session.pop("uid", None)
                if request.method == "GET":
                    target = "/login?" + urlencode({"next": request.url.path})
                    return RedirectResponse(target, status_code=303)
                return desk.render("error.html.j2", request, 401, user=None, status=401,
                                   message="log in first")  # fmt: skip
            try:
                return await handler(request, user)
            except (AuditorError, HTTPFailure) as e:
                status = status_of(e)
                return desk.render("error.html.j2", request, status, user=user, status=status,
                                   message=str(e))  # fmt: skip

        return endpoint

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return json_response({"error": "send Authorization: Bearer TOKEN"}, 401)
            user = authenticate(desk.store(), token)
            if user is None:
                return json_response({"error": "unknown or disabled token"}, 401)
            try:
                return await handler(request, user)
            except (AuditorError, HTTPFailure) as e:
                return json_response({"error": str(e)}, status_of(e))

        return endpoint

    # ------------------------------------------------------------ login
    async def login_form(request: Request) -> Response:
        return desk.render("login.html.j2", request, user=None, error=None)

    async def login(request: Request) -> Response:
        try:
            form = await read_form(request)
        except HTTPFailure as e:
            return desk.render("login.html.j2", request, e.status, user=None, error=e.message)
        user = await call(authenticate, form.get("token"))
        if user is None:
            t = translator(page_lang(request))
            return desk.render("login.html.j2", request, 401, user=None, error=t("bad_token"))
        lang = request.session.get("lang")
        request.session.clear()
        request.session.update({"uid": user.id, "csrf": secrets.token_urlsafe(24)})
        if lang:
            request.session["lang"] = lang
        target = request.query_params.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request, user: User) -> Response:
        await read_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def home(request: Request, user: User) -> Response:
        if user.role == "agent":
            return RedirectResponse(f"/agents/{quote(user.agent_id or '')}", status_code=303)
        return RedirectResponse("/queue", status_code=303)

    # ------------------------------------------------------------ queue
    def queue_data(user: User, params: dict[str, str]) -> dict[str, Any]:
        require_role(user, "reviewer", "lead")
        day = resolve_day(params.get("day") or None)
        reason = params.get("reason") or None
        if reason is not None and reason not in PRIORITY:
            raise DeskError(f"unknown reason {reason!r} (known: {', '.join(PRIORITY)})")
        try:
            limit = int(params.get("limit") or PAGE)
            offset = int(params.get("offset") or 0)
        except ValueError as e:
            raise DeskError("limit and offset must be whole numbers") from e
        if limit < 1 or limit > MAX_PAGE:
            raise DeskError(f"limit is 1 to {MAX_PAGE:,}; page on with offset")
        if offset < 0:
            raise DeskError("offset must be 0 or more")
        f = QueueFilter(
            reason=reason,
            agent_id=params.get("agent") or None,
            criterion=params.get("criterion") or None,
            since=resolve_day(params.get("since") or None) or day,
            until=resolve_day(params.get("until") or None) or day,
            status=params.get("status") or "open",
            rubric_name=params.get("rubric") or None,
        )
        store = desk.store()
        items, total = list_queue(store, f, limit, offset)
        claims = DeskTables(store).claims([(i.chat_id, i.rubric_name) for i in items])
        page = {"offset": offset, "limit": limit,
                "next_offset": offset + limit if offset + limit < total else None,
                "prev_offset": max(0, offset - limit) if offset else None}  # fmt: skip
        return {"items": items, "total": total, "filters": f, "day": day, "page": page,
                "counts": store.queue_reason_counts(f), "claims": claims}  # fmt: skip

    async def queue_page(request: Request, user: User) -> Response:
        params = dict(request.query_params)
        data = await run(queue_data, user, params)
        links = {}
        for name in ("next_offset", "prev_offset"):
            if data["page"][name] is not None:
                links[name] = "/queue?" + urlencode({**params, "offset": data["page"][name]})
        return desk.render("queue.html.j2", request, user=user, items=data["items"],
                           total=data["total"], f=data["filters"], day=data["day"],
                           counts=data["counts"], claims=data["claims"], page=data["page"],
                           links=links, reasons=PRIORITY)  # fmt: skip

    async def queue_api(request: Request, user: User) -> Response:
        data = await run(queue_data, user, dict(request.query_params))
        items = []
        for i in data["items"]:
            # The item's fields in order, shallow (asdict deep-copies every list and dict).
            row = {**vars(i), "status": i.status}
            row["claimed_by"] = data["claims"].get((i.chat_id, i.rubric_name))
            items.append(row)
        return json_response({"total": data["total"], "by_reason": data["counts"],
                              **data["page"], "items": items})  # fmt: skip

    async def claim_page(request: Request, user: User) -> Response:
        form = await read_form(request)
        out = await call(claims.claim, user, form.get("chat_id"), form.get("rubric_name"))
        return RedirectResponse(
            f"/chats/{quote(out['chat_id'])}?rubric={quote(out['rubric_name'])}", status_code=303
        )

    async def release_page(request: Request, user: User) -> Response:
        form = await read_form(request)
        await call(claims.release, user, form.get("chat_id"), form.get("rubric_name"))
        return RedirectResponse("/queue", status_code=303)

    async def claim_api(request: Request, user: User) -> Response:
        body = await read_json(request)
        out = await call(claims.claim, user, body.get("chat_id"), body.get("rubric_name"))
        return json_response(out)

    async def release_api(request: Request, user: User) -> Response:
        body = await read_json(request)
        out = await call(claims.release, user, body.get("chat_id"), body.get("rubric_name"))
        return json_response(out)

    # ------------------------------------------------------------ chats
    async def chat_page(request: Request, user: User) -> Response:
        chat_id = request.path_params["chat_id"]
        view = await call(chat_view, user, chat_id, request.query_params.get("rubric") or None)
        review_action = f"/chats/{quote(chat_id)}/review" if user.role != "agent" else None
        dispute_action = f"/chats/{quote(chat_id)}/dispute" if user.role == "agent" else None
        saved = request.query_params.get("saved")
        return desk.render("chat.html.j2", request, user=user, c=view,
                           review_action=review_action, dispute_action=dispute_action,
                           flash=f"✓ {saved}" if saved else None)  # fmt: skip

    async def chat_api(request: Request, user: User) -> Response:
        view = await call(
            chat_view, user, request.path_params["chat_id"], request.query_params.get("rubric")
        )
        return json_response(view)

    async def review_page(request: Request, user: User) -> Response:
        form = await read_form(request)
        chat_id = request.path_params["chat_id"]
        out = await call(claims.submit_review, user, chat_id, form.get("criterion"),
                         form.get("level"), form.get("comment"),
                         rubric_name=form.get("rubric_name") or None)  # fmt: skip
        where = urlencode(
            {"rubric": out["rubric_name"], "saved": f"{out['criterion']}={out['level']}"}
        )
        return RedirectResponse(f"/chats/{quote(chat_id)}?{where}", status_code=303)

    async def review_api(request: Request, user: User) -> Response:
        body = await read_json(request)
        out = await call(claims.submit_review, user, body.get("chat_id"), body.get("criterion"),
                         body.get("level"), body.get("comment", ""),
                         rubric_name=body.get("rubric_name"))  # fmt: skip
        return json_response(out, 201)

    # ------------------------------------------------------------ disputes
    def disputes_data(user: User) -> dict[str, Any]:
        store = desk.store()
        tables = DeskTables(store)
        rows = tables.disputes(agent_id=user.agent_id if user.role == "agent" else None)
        if user.role == "agent" and user.agent_id is None:  # pragma: no cover - add_user refuses
            rows = []
        levels: dict[int, list[str]] = {}
        if user.role == "lead":
            for d in rows:
                if d["status"] == "open":
                    ref = resolve_audited(store, d["chat_id"], d["rubric_name"])
                    crit = ref.rubric.criterion(d["criterion"])
                    levels[d["id"]] = list(allowed_levels(crit)) if crit else []
        counts = tables.dispute_counts() if user.role != "agent" else None
        return {"disputes": rows, "levels": levels, "counts": counts}

    async def disputes_page(request: Request, user: User) -> Response:
        data = await run(disputes_data, user)
        return desk.render("disputes.html.j2", request, user=user, **data)

    async def disputes_api(request: Request, user: User) -> Response:
        data = await run(disputes_data, user)
        return json_response({"disputes": data["disputes"], "counts": data["counts"]})

    async def dispute_page(request: Request, user: User) -> Response:
        form = await read_form(request)
        out = await call(disputes.file_dispute, user, request.path_params["chat_id"],
                         form.get("criterion"), form.get("reason"), level=form.get("level"),
                         rubric_name=form.get("rubric_name") or None)  # fmt: skip
        return RedirectResponse(f"/disputes#d{out['id']}", status_code=303)

    async def dispute_api(request: Request, user: User) -> Response:
        body = await read_json(request)
        out = await call(disputes.file_dispute, user, body.get("chat_id"), body.get("criterion"),
                         body.get("reason"), level=body.get("level"),
                         rubric_name=body.get("rubric_name"))  # fmt: skip
        return json_response(out, 201)

    async def resolve_page(request: Request, user: User) -> Response:
        form = await read_form(request)
        await call(disputes.resolve_dispute, user, request.path_params["dispute_id"],
                   form.get("decision"), form.get("reason"), level=form.get("level"))  # fmt: skip
        return RedirectResponse(f"/disputes#d{request.path_params['dispute_id']}", status_code=303)

    async def resolve_api(request: Request, user: User) -> Response:
        body = await read_json(request)
        out = await call(disputes.resolve_dispute, user, request.path_params["dispute_id"],
                         body.get("decision"), body.get("reason"), level=body.get("level"))  # fmt: skip
        return json_response(out)

    # ------------------------------------------------------------ agents
    async def agents_page(request: Request, user: User) -> Response:
        require_role(user, "reviewer", "lead")
        names = await run(lambda: DeskTables(desk.store()).agents())
        return desk.render("agents.html.j2", request, user=user, agents=names)

    async def agent_html(request: Request, user: User) -> Response:
        data = await call(agent_page, user, request.path_params["agent_id"])
        return desk.render("agent.html.j2", request, user=user, a=data)

    async def agent_api(request: Request, user: User) -> Response:
        return json_response(await call(agent_page, user, request.path_params["agent_id"]))

    async def me_api(request: Request, user: User) -> Response:
        return json_response(user.to_json())

    # ------------------------------------------------------------ calibration
    def calibration_list(user: User) -> dict[str, Any]:
        require_role(user, "reviewer", "lead")
        store = desk.store()
        tables = DeskTables(store)
        sessions = [
            s for s in tables.sessions() if user.role == "lead" or user.name in s["reviewers"]
        ]
        people = [u for u in tables.users() if u.active and u.role in ("reviewer", "lead")]
        suggested = [i.chat_id for i in list_queue(store, QueueFilter(status="all"), 5)[0]]
        return {"sessions": sessions, "reviewers": people, "suggested": suggested}

    async def calibration_page(request: Request, user: User) -> Response:
        data = await run(calibration_list, user)
        return desk.render("calibration.html.j2", request, user=user, **data)

    async def calibration_create(request: Request, user: User) -> Response:
        form = await read_form(request)
        chats = [c.strip() for c in str(form.get("chats", "")).splitlines() if c.strip()]
        s = await call(calibration.create_session, user, form.get("title"), chats,
                       form.get("reviewers") or [])  # fmt: skip
        return RedirectResponse(f"/calibration/{s['id']}", status_code=303)

    def session_data(user: User, session_id: str) -> dict[str, Any]:
        store = desk.store()
        s = calibration.session_report(store, user, session_id)
        agreed = {(a["chat_id"], a["criterion"]): a["level"] for a in s.get("agreed", [])}
        levels: dict[tuple[str, str], list[str]] = {}
        for c in s.get("criteria", []):
            for it in c["items"]:
                ref = resolve_audited(store, it["chat_id"], dict(s["chats"])[it["chat_id"]])
                crit = ref.rubric.criterion(c["criterion"])
                levels[(it["chat_id"], c["criterion"])] = list(allowed_levels(crit)) if crit else []
        return {"s": s, "agreed": agreed, "levels": levels}

    async def session_page(request: Request, user: User) -> Response:
        data = await run(session_data, user, request.path_params["session_id"])
        return desk.render("session.html.j2", request, user=user, **data)

    async def session_api(request: Request, user: User) -> Response:
        out = await call(calibration.session_report, user, request.path_params["session_id"])
        return json_response(out)

    async def session_chat(request: Request, user: User) -> Response:
        sid = request.path_params["session_id"]
        chat_id = request.path_params["chat_id"]
        s = await call(calibration.session, user, sid)
        keys = dict(s["chats"])
        if chat_id not in keys or user.name not in s["reviewers"]:
            raise AccessDenied(f"{chat_id!r} is not yours to review in session #{s['id']}")
        view = await call(chat_view, user, chat_id, keys[chat_id], blind=True)
        return desk.render("chat.html.j2", request, user=user, c=view,
                           review_action=f"/calibration/{s['id']}/review", dispute_action=None,
                           flash=None)  # fmt: skip

    async def session_review(request: Request, user: User) -> Response:
        form = await read_form(request)
        sid = request.path_params["session_id"]
        s = await call(calibration.session, user, sid)
        chat_id = str(form.get("chat_id") or "")
        await call(calibration.session_review, user, sid, chat_id, form.get("criterion"),
                   form.get("level"), form.get("comment"))  # fmt: skip
        return RedirectResponse(f"/calibration/{s['id']}/chats/{quote(chat_id)}", status_code=303)

    async def session_agreed(request: Request, user: User) -> Response:
        form = await read_form(request)
        sid = request.path_params["session_id"]
        await call(calibration.record_agreed, user, sid, form.get("chat_id"),
                   form.get("criterion"), form.get("level"), form.get("comment"))  # fmt: skip
        return RedirectResponse(f"/calibration/{quote(sid)}", status_code=303)

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", page(logout), methods=["POST"]),
        Route("/", page(home)),
        Route("/queue", page(queue_page)),
        Route("/queue/claim", page(claim_page), methods=["POST"]),
        Route("/queue/release", page(release_page), methods=["POST"]),
        Route("/chats/{chat_id}", page(chat_page)),
        Route("/chats/{chat_id}/review", page(review_page), methods=["POST"]),
        Route("/chats/{chat_id}/dispute", page(dispute_page), methods=["POST"]),
        Route("/disputes", page(disputes_page)),
        Route("/disputes/{dispute_id}/resolve", page(resolve_page), methods=["POST"]),
        Route("/agents", page(agents_page)),
        Route("/agents/{agent_id}", page(agent_html)),
        Route("/calibration", page(calibration_page), methods=["GET"]),
        Route("/calibration", page(calibration_create), methods=["POST"]),
        Route("/calibration/{session_id}", page(session_page)),
        Route("/calibration/{session_id}/chats/{chat_id}", page(session_chat)),
        Route("/calibration/{session_id}/review", page(session_review), methods=["POST"]),
        Route("/calibration/{session_id}/agreed", page(session_agreed), methods=["POST"]),
        Route("/api/me", api(me_api)),
        Route("/api/queue", api(queue_api)),
        Route("/api/queue/claim", api(claim_api), methods=["POST"]),
        Route("/api/queue/release", api(release_api), methods=["POST"]),
        Route("/api/chats/{chat_id}", api(chat_api)),
        Route("/api/reviews", api(review_api), methods=["POST"]),
        Route("/api/disputes", api(disputes_api), methods=["GET"]),
        Route("/api/disputes", api(dispute_api), methods=["POST"]),
        Route("/api/disputes/{dispute_id}/resolve", api(resolve_api), methods=["POST"]),
        Route("/api/agents/{agent_id}", api(agent_api)),
        Route("/api/calibration/{session_id}", api(session_api)),
    ]


def create_app(db_path: str, *, secret: str | None = None) -> Starlette:
    """The desk as an ASGI app over the audit database at ``db_path``.

    ``secret`` signs the session cookies: pass one (or set AUDITOR_DESK_SECRET) to keep
    sessions across restarts; by default a fresh one is drawn, so a restart logs everyone out.
    """
    desk = Desk(db_path)
    key = secret or os.environ.get("AUDITOR_DESK_SECRET") or secrets.token_urlsafe(32)
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=key,
            session_cookie="auditor_desk",
            max_age=SESSION_HOURS * 3600,
            same_site="strict",
        )
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threads = int(os.environ.get("AUDITOR_DESK_THREADS") or THREADS)
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, threads)
        yield

    app = Starlette(routes=build_routes(desk), middleware=middleware, lifespan=lifespan)
    app.state.desk = desk
    return app


def app_from_env() -> Starlette:
    """The app for ``uvicorn --factory`` worker processes (``auditor serve --workers N``):
    the database from $AUDITOR_DESK_DB and the shared session key from
    $AUDITOR_DESK_SECRET, which ``serve`` sets before starting the workers."""
    return create_app(os.environ["AUDITOR_DESK_DB"])
