"""The web page's routes: each reads the request, calls project.py, and answers."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import webbrowser
from pathlib import Path

import click
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..article import PAPER_SIZES, Removal
from ..errors import HandoutError
from ..typeset.themes import discover as list_themes
from .guard import LOOPBACK, Guard, allowed_hosts
from .project import Draft, Project

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
PREVIEW_FILE = re.compile(r"^(page-\d{1,3}\.png|handout\.pdf)$")
PREVIEW_ID = re.compile(r"^[0-9a-f]{16}$")
# JSON escapes quotes and line ends: a paste at the size limit takes up to this many times its bytes.
JSON_OVERHEAD = 6


class TooLarge(Exception):
    pass


async def limited_json(request: Request, project: Project) -> dict:
    """The request's JSON body, refused past the project's article size limit."""
    limit = project.max_bytes * JSON_OVERHEAD + 64 * 1024
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(400, "The request is not the page's own (not a JSON object).")
    return data


def create_app(project: Project, access_token: str | None = None, host: str = "127.0.0.1") -> Starlette:
    from .send import Mailroom, send_routes

    mailroom = Mailroom(project)

    def page(request: Request, name: str, **context) -> Response:
        return templates.TemplateResponse(request, name, {"csrf": request.state.csrf, **context})

    async def handouts(request: Request) -> Response:
        found = await run_in_threadpool(project.handouts)
        return page(request, "handouts.html", handouts=found, active="handouts")

    async def new(request: Request) -> Response:
        return page(request, "new.html", themes=list(list_themes(project.folder)), papers=PAPER_SIZES,
                    active="new", limit_mb=project.config.limits.article_mb)

    async def picture(request: Request) -> Response:
        handout = find(request.path_params["name"])
        if handout is None or handout.pdf is None:
            return Response("No handout yet", status_code=404)
        return FileResponse(await run_in_threadpool(project.picture, handout.pdf), media_type="image/png")

    async def pdf(request: Request) -> Response:
        handout = find(request.path_params["name"])
        if handout is None or handout.pdf is None:
            return Response("No handout yet", status_code=404)
        return FileResponse(handout.pdf, media_type="application/pdf", filename=handout.pdf.name)

    def find(name: str):
        return next((h for h in project.handouts() if h.article.name == name), None)

    async def rebuild(request: Request) -> Response:
        data = await limited_json(request, project)
        try:
            articles = [project.article(data["article"])] if data.get("article") else project.articles()
        except KeyError:
            return JSONResponse({"error": "no such article in content/"}, status_code=404)
        results = await run_in_threadpool(project.build, articles, bool(data.get("article")))
        return JSONResponse({"results": [{"article": r.source.name, "status": r.status,
                                          "error": r.error.format_message() if r.error else None}
                                         for r in results]})

    async def read(request: Request) -> Response:
        data = await limited_json(request, project)
        draft, found = await run_in_threadpool(project.read, str(data.get("content", "")), data.get("kind") == "html")
        return JSONResponse({**draft_json(draft), "found": [str(d) for d in found]})

    async def preview(request: Request) -> Response:
        draft = draft_of(await limited_json(request, project))
        shown = await run_in_threadpool(project.preview, draft)
        result, report = shown.result, shown.report
        return JSONResponse({
            "ok": result.ok,
            "error": result.error.format_message() if result.error else None,
            "slug": draft.slug,
            "pages": [f"/preview/{shown.id}/{page.name}" for page in shown.pages],
            "page_count": shown.page_count,
            "pdf": f"/preview/{shown.id}/handout.pdf" if shown.pdf else None,
            "diagnostics": [str(d) for d in result.diagnostics],
            "report": report.as_dict() if report else None,
        })

    async def preview_file(request: Request) -> Response:
        preview_id, name = request.path_params["id"], request.path_params["name"]
        if not (PREVIEW_ID.match(preview_id) and PREVIEW_FILE.match(name)):
            return Response("Not found", status_code=404)
        try:
            path = project.preview_file(preview_id, name)
        except KeyError:
            return Response("Not found", status_code=404)
        if name == "handout.pdf":
            return FileResponse(path, media_type="application/pdf", filename=path.name)
        return FileResponse(path, media_type="image/png")

    async def save(request: Request) -> Response:
        data = await limited_json(request, project)
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
        yield
        mailroom.close()
        project.close()

    routes = [
        Route("/", handouts),
        Route("/new", new),
        Route("/handouts/{name}/picture.png", picture),
        Route("/handouts/{name}/pdf", pdf),
        Route("/preview/{id}/{name}", preview_file),
        Route("/api/build", rebuild, methods=["POST"]),
        Route("/api/read", read, methods=["POST"]),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        *send_routes(mailroom, page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host)),
                  Middleware(Guard, access_token=access_token)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HandoutError: handout_error, TooLarge: too_large})


def draft_json(draft: Draft) -> dict:
    return {"title": draft.title, "body": draft.body, "author": draft.author, "date": draft.date,
            "lang": draft.lang, "source_url": draft.source_url, "theme": draft.theme, "paper": draft.paper,
            "removed": [{"kind": r.kind, "line": r.line, "text": r.text} for r in draft.removed]}


def draft_of(data: dict) -> Draft:
    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value).strip() or None if value is not None else None

    removed = tuple(Removal(str(r.get("kind", "")), int(r["line"]) if str(r.get("line")).isdigit() else 0,
                            str(r.get("text", "")))
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
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn raises Ctrl-C again once it has stopped: stopping is what was asked
    finally:
        project.close()
    click.echo("handout serve: stopped.")
