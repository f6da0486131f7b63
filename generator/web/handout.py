"""The Handout page (all pages, theme and paper switchers, print-shop options), what every
preview answers with, and the files a preview or a handout is downloaded as."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..article import PAPER_SIZES
from ..output.printing import MARKS
from ..typeset.themes import discover as list_themes
from .guard import limited_json
from .project import SHEETS, Choices, Preview, Project

PREVIEW_ID = re.compile(r"^[0-9a-f]{16}$")
PAGE_PICTURE = re.compile(r"^page-(\d{1,5})\.png$")
# What a preview or a handout is downloaded as: the handout itself or sheets made from it.
DOWNLOADS = ("handout", *SHEETS)


def preview_json(preview: Preview, project: Project) -> dict:
    """A preview as the page's script shows it: pages, downloads, and every finding with its page
    (its file named within the project, as the command line names it)."""
    base = f"/preview/{preview.id}"
    report = preview.report
    return {
        "ok": preview.error is None,
        "error": preview.error,
        "slug": preview.slug,
        "page_count": preview.page_count,
        "pages": [f"{base}/page-{n}.png" for n in range(1, preview.page_count + 1)],
        "pdf": f"{base}/handout.pdf" if preview.pdf else None,
        "downloads": {kind: f"{base}/{kind}.pdf" for kind in DOWNLOADS} if preview.pdf else {},
        "report": report.as_dict() if report else None,
        "findings": [{"text": str(dataclasses.replace(d, path=project.shown_path(d.path))), "page": d.page,
                      "severity": d.severity} for d in preview.findings],
    }


class HandoutRoutes:
    """The routes of the Handout page and of the files the pages download."""

    def __init__(self, project: Project, page: Callable[..., Response]):
        self.project = project
        self.page = page

    async def handout_page(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            handout = await run_in_threadpool(self.project.handout, name)
            shown = await run_in_threadpool(self.project.built, name) if handout.pdf else None
        except KeyError:
            return Response("No such article in content/", status_code=404)
        return self.page(request, "handout.html", handout=handout,
                         shown=preview_json(shown, self.project) if shown else None,
                         themes=list(list_themes(self.project.folder)), papers=PAPER_SIZES, marks=MARKS, active="")

    async def render(self, request: Request) -> Response:
        data = await limited_json(request, self.project.max_bytes)
        choices = Choices(**{key: str(data[key]).strip() or None for key in ("theme", "paper", "bleed", "marks")
                             if data.get(key) is not None})
        try:
            shown = await run_in_threadpool(self.project.render, str(data.get("article", "")), choices)
        except KeyError:
            return JSONResponse({"error": "no such article in content/"}, status_code=404)
        return JSONResponse(preview_json(shown, self.project))

    async def preview_file(self, request: Request) -> Response:
        preview_id, name = request.path_params["id"], request.path_params["name"]
        picture = PAGE_PICTURE.match(name)
        kind = name.removesuffix(".pdf")
        if not PREVIEW_ID.match(preview_id) or not (picture or (name.endswith(".pdf") and kind in DOWNLOADS)):
            return Response("Not found", status_code=404)
        try:
            if picture:
                return FileResponse(await run_in_threadpool(self.project.page_picture, preview_id, int(picture[1])),
                                    media_type="image/png")
            path = await run_in_threadpool(self.project.preview_sheets, preview_id, kind)
        except KeyError:
            return Response("Not found", status_code=404)
        return FileResponse(path, media_type="application/pdf", filename=path.name)

    async def picture(self, request: Request) -> Response:
        pdf = await self.built_pdf(request.path_params["name"])
        if pdf is None:
            return Response("No handout yet", status_code=404)
        return FileResponse(await run_in_threadpool(self.project.picture, pdf), media_type="image/png")

    async def pdf(self, request: Request) -> Response:
        pdf = await self.built_pdf(request.path_params["name"])
        if pdf is None:
            return Response("No handout yet", status_code=404)
        return FileResponse(pdf, media_type="application/pdf", filename=pdf.name)

    async def built_pdf(self, name: str) -> Path | None:
        try:
            return (await run_in_threadpool(self.project.handout, name)).pdf
        except KeyError:
            return None

    async def handout_sheets(self, request: Request) -> Response:
        name, kind = request.path_params["name"], request.path_params["kind"]
        if kind not in SHEETS:
            return Response("Not found", status_code=404)
        try:
            path = await run_in_threadpool(self.project.handout_sheets, name, kind)
        except KeyError:
            return Response("No handout yet", status_code=404)
        return FileResponse(path, media_type="application/pdf", filename=path.name)

    def routes(self) -> list[Route]:
        return [
            Route("/handouts/{name}", self.handout_page),
            Route("/handouts/{name}/picture.png", self.picture),
            Route("/handouts/{name}/pdf", self.pdf),
            Route("/handouts/{name}/{kind}.pdf", self.handout_sheets),
            Route("/preview/{id}/{name}", self.preview_file),
            Route("/api/render", self.render, methods=["POST"]),
        ]

