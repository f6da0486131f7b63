"""The web page's routes: each reads the request, calls project.py, and answers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import threading
import webbrowser
from pathlib import Path

import click
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..article import PAPER_SIZES, Removal
from ..diagnostics import Diagnostic
from ..errors import HandoutError, UsageError
from ..typeset.themes import discover as list_themes
from .guard import LOOPBACK, Guard, TooLarge, allowed_hosts, limited_json
from .handout import HandoutRoutes, preview_json
from .live import Updates
from .project import Draft, Project

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


# mccabe adds every route closure's branches to create_app's own (each route is short):
# C901 measures the routes together, not this function.
def create_app(project: Project, access_token: str | None = None, host: str = "127.0.0.1") -> Starlette:  # noqa: C901
    from .send import Mailroom, send_routes

    updates = Updates()
    mailroom = Mailroom(project)

    def page(request: Request, name: str, **context) -> Response:
        return templates.TemplateResponse(request, name, {"csrf": request.state.csrf, **context})

    async def handouts(request: Request) -> Response:
        found = await run_in_threadpool(project.handouts)
        return page(request, "handouts.html", handouts=found, active="handouts")

    async def new(request: Request) -> Response:
        return page(request, "new.html", themes=list(list_themes(project.folder)), papers=PAPER_SIZES,
                    active="new", limit_mb=project.config.limits.article_mb)

    async def rebuild(request: Request) -> Response:
        data = await limited_json(request, project.max_bytes)
        try:
            articles = [project.article(data["article"])] if data.get("article") else project.articles()
        except KeyError:
            return JSONResponse({"error": "no such article in content/"}, status_code=404)
        results = await run_in_threadpool(project.build, articles, bool(data.get("article")))
        updates.publish({"status": "done", "articles": [r.source.name for r in results]})
        return JSONResponse({"results": [{"article": r.source.name, "status": r.status,
                                          "error": r.error.format_message() if r.error else None}
                                         for r in results]})

    async def read(request: Request) -> Response:
        draft, found = await run_in_threadpool(read_draft, project, await limited_json(request, project.max_bytes))
        return JSONResponse({**draft_json(draft), "found": [str(d) for d in found]})

    async def preview(request: Request) -> Response:
        draft = draft_of(await limited_json(request, project.max_bytes))
        return JSONResponse(preview_json(await run_in_threadpool(project.preview, draft), project))

    async def save(request: Request) -> Response:
        data = await limited_json(request, project.max_bytes)
        result = await run_in_threadpool(project.save, draft_of(data), bool(data.get("overwrite")))
        return JSONResponse({"saved": f"content/{result.source.name}", "ok": result.ok,
                             "error": result.error.format_message() if result.error else None})

    async def handout_error(request: Request, exc: HandoutError) -> Response:
        return JSONResponse({"error": exc.format_message()}, status_code=422)

    async def too_large(request: Request, exc: TooLarge) -> Response:
        return JSONResponse({"error": f"That is too large: over the {project.config.limits.article_mb:g} MB limit"
                                      " ([limits] article_mb in handout.toml)."}, status_code=413)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        stop = asyncio.Event()
        watcher = asyncio.create_task(project.watch(updates.publish, stop))
        yield
        stop.set()
        await watcher
        mailroom.close()
        project.close()

    routes = [
        Route("/", handouts),
        Route("/new", new),
        *HandoutRoutes(project, page).routes(),
        Route("/events", updates.events),
        Route("/api/build", rebuild, methods=["POST"]),
        Route("/api/read", read, methods=["POST"]),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        *send_routes(mailroom, page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host)),
                  Middleware(Guard, access_token=access_token)]
    # Starlette types every handler as taking any Exception, though it calls each only with
    # instances of the class it is registered for.
    handlers = {HandoutError: handout_error, TooLarge: too_large}
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers=handlers)  # type: ignore[arg-type]
    app.state.updates = updates
    return app


def read_draft(project: Project, data: dict) -> tuple[Draft, tuple[Diagnostic, ...]]:
    """What the page sent to read: a paste (its HTML, else its text) or a dropped file (base64)."""
    if data.get("kind") == "file":
        name = str(data.get("name", ""))
        try:
            content = base64.b64decode(str(data.get("content", "")), validate=True)
        except ValueError:
            raise UsageError("the file did not arrive whole; drop it again", Path(name).name) from None
        return project.read_file(name, content)
    return project.read(str(data.get("content", "")), data.get("kind") == "html")


def draft_json(draft: Draft) -> dict:
    return {"title": draft.title, "body": draft.body, "author": draft.author, "date": draft.date,
            "lang": draft.lang, "source_url": draft.source_url, "theme": draft.theme, "paper": draft.paper,
            "removed": [{"kind": r.kind, "line": r.line, "text": r.text, "after": r.after} for r in draft.removed]}


def draft_of(data: dict) -> Draft:
    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value).strip() or None if value is not None else None

    def number(value) -> int | None:
        return int(value) if str(value).isdigit() else None

    removed = tuple(Removal(str(r.get("kind", "")), number(r.get("line")) or 0, str(r.get("text", "")),
                            number(r.get("after")))
                    for r in data.get("removed") or [] if isinstance(r, dict))
    return Draft(title=text("title") or "Untitled", body=str(data.get("body", "")), author=text("author"),
                 date=text("date"), lang=text("lang"), source_url=text("source_url"), theme=text("theme"),
                 paper=text("paper"), removed=removed)


def serve(folder: Path, host: str, port: int, open_browser: bool, allow_remote: bool) -> None:
    """Run the web page until Ctrl-C."""
    import uvicorn

    access_token = None if host in LOOPBACK else secrets.token_urlsafe(16)
    project = Project(folder, allow_remote)
    app = create_app(project, access_token, host)
    shown_host = f"[{host}]" if ":" in host else host
    address = f"http://{shown_host}:{port}/" + (f"?token={access_token}" if access_token else "")
    click.echo(f"handout serve: {project.folder} at {address}\nOpen that address in a browser; Ctrl-C stops.")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, (address,)).start()

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            # An open page's live updates would hold the stop until they end: end them first.
            app.state.updates.close()
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5))
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn raises Ctrl-C again once it has stopped: stopping is what was asked
    finally:
        project.close()
    click.echo("handout serve: stopped.")
