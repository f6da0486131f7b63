"""The Send page: a handout mailed to a list, by the same mail merge as `handout mail`.

The recipients' CSV is kept in a private folder (their addresses are personal data)
while the server runs. A dry run writes output/outbox/ and a send keeps
output/mail-log.jsonl, both through the functions the command line calls, so nobody
is sent a handout twice, from the page or the terminal. One run at a time, in a
thread of its own: the page asks for its progress and can stop it between two
messages; sending again goes on with those not sent yet.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .. import mail
from ..config import MEGABYTE
from ..errors import HandoutError, MailError
from ..mail.compose import Handout as Attachment
from ..mail.compose import html_of
from ..mail.smtp import DRY_RUN_SENDER
from ..output.files import output_path, write_atomically
from ..read.load import DEFAULT_MAX_BYTES, load_article
from .guard import TooLarge, limited_json
from .project import Project

UPLOAD_ID = re.compile(r"^[0-9a-f]{16}$")
RUN_ID = re.compile(r"^[0-9a-f]{16}$")
OUTBOX_FILE = re.compile(r"^\d{4,}-[A-Za-z0-9._+-]+\.eml$")
# The recipients' file as the page names it: its own name, with anything unsafe for a file made '_'.
UNSAFE_NAME = re.compile(r"[^\w.+-]+")
# Uploads kept at once; older ones are deleted.
KEPT_UPLOADS = 10
# Seconds a stopping run is given to finish the message it is sending when the server stops.
STOP_SECONDS = 10
# The name a message written on the page has in its error messages.
MESSAGE = Path("message")


@dataclass(frozen=True)
class Upload:
    """A recipients' CSV as uploaded, in the private folder, and what reading it found."""

    id: str
    path: Path
    recipients: mail.Recipients | None
    problems: tuple[str, ...]  # each on a line: the file and row, and what is wrong
    notes: tuple[str, ...] = ()  # how it was read, and cc or bcc addresses left out


@dataclass
class Run:
    """A dry run or a send, in its thread: what the page shows of it."""

    id: str
    sending: bool
    test_to: str | None = None  # a test: the first recipient's message to this address alone
    stop: threading.Event = field(default_factory=threading.Event)
    # preparing (reading, building), running, done, stopped, failed
    state: str = "preparing"
    total: int = 0
    done: int = 0
    messages: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""
    thread: threading.Thread | None = None

    @property
    def going(self) -> bool:
        return self.state in ("preparing", "running")


class Mailroom:
    """The Send page's state over a project: uploads and the one run at a time."""

    def __init__(self, project: Project):
        self.project = project
        self.folder = Path(tempfile.mkdtemp(prefix="handout-send-"))  # mode 0700: only this user reads it
        self.uploads: dict[str, Upload] = {}
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()

    def close(self) -> None:
        for run in self.runs.values():
            run.stop.set()
            if run.thread:
                run.thread.join(STOP_SECONDS)
        shutil.rmtree(self.folder, ignore_errors=True)

    def settings(self) -> dict:
        """The SMTP settings as the page shows them: never the password, only whether it is set."""
        try:
            settings = mail.smtp_settings(self.project.config.mail)
        except MailError as exc:
            return {"problem": exc.problem}
        missing = [what for what, value in (("an SMTP server (HANDOUT_SMTP_HOST or smtp_host)", settings.host),
                                            ("a sender (HANDOUT_MAIL_FROM or from)", settings.sender)) if not value]
        return {"server": settings.address if settings.host else None, "security": settings.security,
                "user": settings.user, "sender": settings.sender, "password_set": bool(settings.password),
                "problem": f"Set {' and '.join(missing)} in [mail] of handout.toml to send;"
                           " a dry run needs neither." if missing else None}

    def upload(self, name: str, data: bytes) -> Upload:
        """The CSV written to the private folder and read as `handout mail` reads it."""
        self.forget_old_uploads()
        upload_id = secrets.token_hex(8)
        safe = UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).lstrip(".") or "recipients.csv"
        path = self.folder / upload_id / safe
        path.parent.mkdir()
        write_atomically(path, data)
        problems: tuple[str, ...] = ()
        try:
            recipients = mail.read_recipients(path)
        except HandoutError as exc:
            recipients, problems = None, tuple(self.shown(exc, path.parent).splitlines())
        notes = (*recipients.notices, *map(str, recipients.diagnostics)) if recipients else ()
        upload = Upload(upload_id, path, recipients, problems, tuple(n.replace(f"{path.parent}/", "") for n in notes))
        self.uploads[upload_id] = upload
        return upload

    def forget_old_uploads(self) -> None:
        for old in list(self.uploads)[:max(0, len(self.uploads) - KEPT_UPLOADS + 1)]:
            shutil.rmtree(self.uploads.pop(old).path.parent, ignore_errors=True)

    def checked(self, upload_id: str) -> Upload:
        """The upload, when it has no problem left: nothing is sent while one remains."""
        upload = self.uploads.get(upload_id) if UPLOAD_ID.match(upload_id) else None
        if upload is None:
            raise MailError("upload the recipients' CSV first (the server forgets it when it restarts)")
        if upload.recipients is None:
            raise MailError(f"the recipients' CSV has problems; fix them and upload it again: {upload.problems[0]}")
        return upload

    @staticmethod
    def shown(exc: HandoutError, folder: Path) -> str:
        """An error as the page shows it: the uploaded file by its own name, not the private folder's."""
        return exc.format_message().replace(f"{folder}/", "")

    def template(self, subject: str, body: str) -> mail.MessageTemplate:
        return mail.written_message(subject, body, MESSAGE, self.project.config.mail.template_seconds)

    def preview(self, upload_id: str, article: str, subject: str, body: str, row: int) -> dict:
        """The message the recipient of `row` would get, filled in; nothing is built or written."""
        upload = self.checked(upload_id)
        rows = upload.recipients.rows if upload.recipients else ()
        recipient = next((r for r in rows if r.row == row), rows[0])
        filled_subject, filled_body = mail.render_for(self.template(subject, body), recipient.fields, recipient.row)
        try:
            handout = output_path(Path(), load_article(self.project.article(article), self.project.max_bytes).slug)
        except KeyError:
            raise MailError(f"no article content/{article}") from None
        letter = mail.Letter(recipient, filled_subject, filled_body, Attachment(handout, handout.name, b"", b""))
        sender = self.settings().get("sender") or DRY_RUN_SENDER
        return {"from": sender, "to": str(Address(recipient.fields.get("name", ""), addr_spec=recipient.email)),
                "cc": ", ".join(recipient.cc), "subject": filled_subject, "html": html_of(filled_body),
                "attached": letter.attachment_name}

    def start(self, upload_id: str, article: str, subject: str, body: str, sending: bool,
              test_to: str | None = None) -> Run:
        """A dry run (or with `sending`, a send; with `test_to`, a test, as `handout mail --test-to`)
        started in a thread of its own."""
        if test_to is not None and not test_to.strip():
            raise MailError("write the address to send the test to")
        upload = self.checked(upload_id)
        template = self.template(subject, body)
        try:
            source = self.project.article(article)
        except KeyError:
            raise MailError(f"no article content/{article}") from None
        with self.lock:
            if any(run.going for run in self.runs.values()):
                raise MailError("a dry run or a send is going on already: wait for it, or stop it")
            run = Run(secrets.token_hex(8), sending or test_to is not None, test_to and test_to.strip())
            self.runs = {run.id: run}
        run.thread = threading.Thread(target=self.work, args=(run, upload, source, template), daemon=True)
        run.thread.start()
        return run

    def work(self, run: Run, upload: Upload, article: Path, template: mail.MessageTemplate) -> None:
        project = self.project
        try:
            with mail.prepared(upload.path, article, template, project.config, project.options(project.output),
                               sending=run.sending) as merge:
                run.total = len(merge.recipients.rows)
                # Files named within the project, as the rest of the page names them.
                run.notes = [note.replace(f"{upload.path.parent}/", "").replace(f"{project.folder}/", "")
                             for note in merge.notices if note not in merge.recipients.notices]
                run.state = "running"
                if run.test_to:
                    run.summary = self.test(run, merge, run.test_to)
                else:
                    run.summary = self.send(run, merge) if run.sending else self.dry_run(run, merge)
        except HandoutError as exc:
            run.state, run.summary = "failed", self.shown(exc, upload.path.parent)
        except Exception as exc:  # noqa: BLE001 - the page must hear of it, not a thread die silently
            run.state, run.summary = "failed", f"handout: error: {type(exc).__name__}: {exc}"

    def dry_run(self, run: Run, merge: mail.Merge) -> str:
        def written(path: Path, letter: mail.Letter) -> None:
            run.messages.append({"file": path.name, "to": letter.recipient.email, "subject": letter.subject})
            run.done += 1

        outbox = mail.dry_run(merge, self.project.output, run.stop, written)
        run.state = "stopped" if outbox.stopped else "done"
        stopped = " Stopped before the last." if outbox.stopped else ""
        return (f"Dry run: {outbox.written} messages ({outbox.size / MEGABYTE:.1f} MB) written to output/outbox/;"
                f" nothing was sent.{stopped}")

    def send(self, run: Run, merge: mail.Merge) -> str:
        def told(status: str, letter: mail.Letter, detail: str) -> None:
            run.messages.append({"status": status, "to": letter.recipient.email, "detail": detail})
            run.done += 1

        report = mail.send_to_list(merge, self.project.output, progress=told, stop=run.stop).report
        run.state = "stopped" if report.stopped else "done"
        summary = (f"{len(report.sent)} sent, {len(report.skipped)} sent before, {len(report.failed)} failed"
                   f"{f', {report.left} not sent yet' if report.left else ''}.")
        if report.stopped:
            why = "" if run.stop.is_set() else f": {report.stopped}"  # else the Stop button, pressed on the page
            summary += f" Stopped{why}. Send again to send the rest: nobody gets it twice."
        if report.failed:
            summary += " The rows that failed are in output/failed.csv."
        return summary

    def test(self, run: Run, merge: mail.Merge, address: str) -> str:
        run.total = 1
        status, detail = mail.send_test(merge, address)
        run.messages.append({"status": status, "to": address, "detail": detail})
        run.done = 1
        run.state = "done" if status == mail.SENT else "failed"
        outcome = "sent" if status == mail.SENT else f"not sent: {detail}"
        return (f"Test: {merge.recipients.rows[0].email}'s message {outcome} to {address}."
                " Nobody on the list was sent anything, and nothing was logged as sent.")

    def progress(self, run_id: str, since: int) -> dict:
        run = self.runs.get(run_id) if RUN_ID.match(run_id) else None
        if run is None:
            raise KeyError(run_id)
        return {"id": run.id, "sending": run.sending, "test": bool(run.test_to), "state": run.state,
                "total": run.total, "done": run.done, "messages": run.messages[since:], "notes": run.notes,
                "summary": run.summary}

    def outbox_file(self, name: str) -> Path:
        path = self.project.output / mail.merge.OUTBOX / name
        if not (OUTBOX_FILE.match(name) and path.is_file()):
            raise KeyError(name)
        return path


async def upload_body(request: Request) -> bytes:
    """The request's body, refused past the size `handout mail` reads a recipients' file up to."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > DEFAULT_MAX_BYTES:
            raise TooLarge()
    return bytes(body)


def send_routes(mailroom: Mailroom, page: Callable[..., Response]) -> list[Route]:
    """The Send page's routes, for app.py to add to its own."""
    project = mailroom.project

    async def send_page(request: Request) -> Response:
        handouts = await run_in_threadpool(project.handouts)
        return page(request, "send.html", active="send", handouts=handouts, settings=mailroom.settings(),
                    limit_mb=DEFAULT_MAX_BYTES / MEGABYTE)

    async def recipients(request: Request) -> Response:
        name = unquote(request.headers.get("x-file-name", "recipients.csv"))
        upload = await run_in_threadpool(mailroom.upload, name, await upload_body(request))
        rows = upload.recipients.rows if upload.recipients else ()
        return JSONResponse({"upload": upload.id, "name": upload.path.name, "problems": upload.problems,
                             "rows": [{"row": r.row, "email": r.email, "name": r.fields.get("name", "")} for r in rows],
                             "notes": upload.notes})

    async def preview(request: Request) -> Response:
        data = await limited_json(request, project.max_bytes)
        row = int(data["row"]) if str(data.get("row", "")).isdigit() else 0
        shown = await run_in_threadpool(mailroom.preview, str(data.get("upload", "")), str(data.get("article", "")),
                                        str(data.get("subject", "")), str(data.get("body", "")), row)
        return JSONResponse(shown)

    async def start(request: Request) -> Response:
        data = await limited_json(request, project.max_bytes)
        test_to = str(data.get("test_to", "")) if data.get("mode") == "test" else None
        run = mailroom.start(str(data.get("upload", "")), str(data.get("article", "")), str(data.get("subject", "")),
                             str(data.get("body", "")), data.get("mode") == "send", test_to)
        return JSONResponse({"run": run.id})

    async def progress(request: Request) -> Response:
        since = request.query_params.get("since", "0")
        try:
            return JSONResponse(mailroom.progress(request.path_params["id"], int(since) if since.isdigit() else 0))
        except KeyError:
            return JSONResponse({"error": "no such run (the server restarted?)"}, status_code=404)

    async def stop(request: Request) -> Response:
        run = mailroom.runs.get(request.path_params["id"])
        if run is None:
            return JSONResponse({"error": "no such run"}, status_code=404)
        run.stop.set()
        return JSONResponse({"stopping": run.going})

    async def outbox_file(request: Request) -> Response:
        try:
            path = mailroom.outbox_file(request.path_params["name"])
        except KeyError:
            return Response("Not found", status_code=404)
        return FileResponse(path, media_type="message/rfc822", filename=path.name)

    return [
        Route("/send", send_page),
        Route("/send/outbox/{name}", outbox_file),
        Route("/api/send/recipients", recipients, methods=["POST"]),
        Route("/api/send/preview", preview, methods=["POST"]),
        Route("/api/send/runs", start, methods=["POST"]),
        Route("/api/send/runs/{id}", progress),
        Route("/api/send/runs/{id}/stop", stop, methods=["POST"]),
    ]
