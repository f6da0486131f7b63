"""`handout serve`'s Send page in a real browser (Chromium), against an SMTP server (aiosmtpd)
on 127.0.0.1 started here: every action from the keyboard, as someone without a mouse does it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from browser import BUILD_MS, CHROMIUM, free_port, serious_violations, served
from conftest import write
from pypdf import PdfReader

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no chromium executable (Debian: apt-get install chromium)")
PEOPLE = ["Ana Ruiz;ana@example.org;Tuesday", "Bo Lee;bo@example.org;Thursday",
          "Chloé Martin;chloe@example.org;Tuesday", "Dan Okafor;dan@example.org;Friday"]
SUBJECT = "Your handout for {{ group }}, {{ name }}"
BODY = "Dear {{ name }},\n\nHere is the handout from **{{ group }}**'s session."


class Server:
    """An SMTP server that keeps what it is sent; it can hold a message at DATA until released,
    so that a test can press Stop while a message is on its way."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's protocol
        if self.hold_after is not None and len(self.messages) >= self.hold_after and not self.released.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait, 60)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def recipients(self) -> Counter:
        return Counter(address for addresses, _ in self.messages for address in addresses)


@pytest.fixture(scope="module")
def smtp():
    server = Server()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    server.port = port
    yield server
    server.released.set()
    controller.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, smtp):
    root = tmp_path_factory.mktemp("send")
    write(root / "content" / "flu.md", """
        ---
        title: Flu vaccine this autumn
        ---
        The flu vaccine is free for everyone over sixty-five and for carers. Book at the front desk.
    """)
    write(root / "handout.toml", f"""
        [mail]
        smtp_host = "127.0.0.1"
        smtp_port = {smtp.port}
        smtp_security = "none"
        from = "Northside Clinic <news@clinic.example>"
        rate_per_minute = 6000
        template_seconds = 2
    """)
    with served(root) as address:
        yield root, address


def csv_file(rows: list[str]) -> dict:
    return {"name": "people.csv", "mimeType": "text/csv",
            "buffer": "\ufeffname;email;group\n".encode() + "\n".join(rows).encode() + b"\n"}


def press(page, selector: str, key: str = "Enter") -> None:
    """Reach the control from the keyboard and use it, as someone without a mouse does."""
    page.focus(selector)
    assert page.evaluate("selector => document.activeElement.matches(selector)", selector), selector
    page.keyboard.press(key)


def open_send_page(page, address: str, rows: list[str]) -> None:
    page.goto(address + "/send")
    page.fill("#subject", SUBJECT)
    page.fill("#body", BODY)
    page.set_input_files("#recipients", files=[csv_file(rows)])
    page.wait_for_function("(status => status && !status.startsWith('Reading'))"
                           "(document.getElementById('recipients-status').textContent)")


def test_a_bad_address_shows_its_row_and_nothing_can_be_sent(site, smtp, page):
    root, address = site
    open_send_page(page, address, [PEOPLE[0], "Bo Lee;bo@@example;Thursday", PEOPLE[2], "Dan;dan@example.org,x;Friday"])
    problems = page.locator("#problems li").all_inner_texts()
    assert len(problems) == 2
    assert problems[0].startswith("people.csv:3:") and "'bo@@example' is not a valid address" in problems[0]
    assert problems[1].startswith("people.csv:5:")
    assert "nothing was sent" in page.inner_text("#recipients-status")
    assert page.is_disabled("#dry-run") and page.is_disabled("#send")
    assert serious_violations(page) == []
    # Even a request made by hand, past the page's buttons, sends nothing.
    token = page.get_attribute("meta[name=csrf-token]", "content")
    refused = page.request.post(address + "/api/send/runs", headers={"X-CSRF-Token": token},
                                data={"upload": "0123456789abcdef", "article": "flu.md", "subject": "x",
                                      "body": "x", "mode": "send"})
    assert refused.status == 422 and "upload the recipients" in refused.json()["error"]
    assert smtp.messages == []
    assert not (root / "output" / "outbox").exists() and not (root / "output" / "mail-log.jsonl").exists()


def test_the_preview_and_a_dry_run_list_one_message_per_recipient_and_an_eml_downloads(site, smtp, page, tmp_path):
    root, address = site
    open_send_page(page, address, PEOPLE[:3])
    assert page.inner_text("#recipients-status") == "3 recipients in people.csv, no problems."
    page.select_option("#preview-row", "4")  # Chloé, on the spreadsheet's row 4
    press(page, "#show-preview")
    page.wait_for_selector("#mail-preview", state="visible")
    assert page.inner_text("#preview-subject") == "Your handout for Tuesday, Chloé Martin"
    assert page.inner_text("#preview-to") == "Chloé Martin <chloe@example.org>"
    assert page.inner_text("#preview-attached") == "flu-chloé-martin.pdf"
    assert page.frame_locator("#preview-body").locator("strong").inner_text() == "Tuesday"
    press(page, "#dry-run")
    page.wait_for_selector("#run-status:has-text('Dry run: 3 messages')")
    items = page.locator("#messages li").all_inner_texts()
    assert len(items) == 3
    assert "to bo@example.org: “Your handout for Thursday, Bo Lee”" in items[1]
    assert page.get_attribute("#progress", "value") == "3"
    assert page.locator("#run-notes li").all_inner_texts() == ["content/flu.md: one handout for all 3 recipients"]
    assert page.is_hidden("#stop") and page.is_enabled("#send"), "nothing going on: Stop is gone, Send is back"
    assert serious_violations(page) == []
    with page.expect_download() as download:
        press(page, "#messages li:nth-child(2) a")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    message = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert message["To"] == "Bo Lee <bo@example.org>" and message["Subject"] == "Your handout for Thursday, Bo Lee"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "flu-bo-lee.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "The flu vaccine is free for everyone over sixty-five" in " ".join(text.split())
    assert smtp.messages == [], "a dry run sends nothing"
    refused = page.request.get(address + "/send/outbox/..%2F..%2Fhandout.toml")
    assert refused.status == 404


def test_a_send_stopped_and_resumed_delivers_each_recipient_once(site, smtp, page):
    root, address = site
    smtp.hold_after = 1  # the second message waits at the server until the test releases it
    open_send_page(page, address, PEOPLE)
    press(page, "#send")
    assert smtp.holding.wait(BUILD_MS / 1000), "the second message never reached the server"
    press(page, "#stop")
    wait_for(lambda: "Stopping" in page.inner_text("#run-status"))
    smtp.released.set()
    page.wait_for_selector("#send:has-text('Send the rest')")
    assert "2 sent, 0 sent before, 0 failed, 2 not sent yet. Stopped." in page.inner_text("#run-status")
    assert sorted(smtp.recipients()) == ["ana@example.org", "bo@example.org"]
    press(page, "#send")
    page.wait_for_selector("#run-status:has-text('2 sent, 2 sent before, 0 failed.')")
    assert smtp.recipients() == Counter({f"{who}@example.org": 1 for who in ("ana", "bo", "chloe", "dan")})
    assert page.get_attribute("#progress", "value") == page.get_attribute("#progress", "max") == "4"
    log = [json.loads(line) for line in (root / "output" / "mail-log.jsonl").read_text().splitlines()]
    assert Counter(entry["email"] for entry in log if entry["status"] == "sent") == smtp.recipients()
    # A third press sends nobody anything: the send log is the command line's.
    press(page, "#send")
    page.wait_for_selector("#run-status:has-text('0 sent, 4 sent before')")
    assert len(smtp.messages) == 4


# Three loops of 10,000 (range()'s limit) with nothing in them: no call, no output, for ever.
RUNAWAY = "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}" \
          "{% endfor %}{% endfor %}{% endfor %}"
# Far longer than template_seconds, well short of a hang.
RUNAWAY_MS = 60_000


def test_a_runaway_message_is_stopped_in_time_on_the_page_and_the_server_answers_on(site, smtp, page):
    """The page fills messages in worker threads, where no timer signal reaches: before the fix
    the preview, and the dry run's check, ran for ever."""
    root, address = site
    sent_before = len(smtp.messages)
    open_send_page(page, address, PEOPLE[:2])
    page.fill("#body", "Dear {{ name }},\n" + RUNAWAY)
    press(page, "#show-preview")
    page.wait_for_selector("#recipients-status:has-text('took longer than 2 s')", timeout=RUNAWAY_MS)
    assert page.inner_text("#recipients-status").startswith("message: error: row 2: filling in the template")
    press(page, "#dry-run")
    page.wait_for_selector("#run-status:has-text('took longer than 2 s')", timeout=RUNAWAY_MS)
    assert "nothing was sent" in page.inner_text("#run-status")
    assert page.request.get(address + "/send", timeout=RUNAWAY_MS).status == 200
    page.fill("#body", BODY)
    press(page, "#show-preview")
    page.wait_for_selector("#preview-subject:has-text('Your handout for Tuesday, Ana Ruiz')", timeout=RUNAWAY_MS)
    assert len(smtp.messages) == sent_before


def test_one_send_at_a_time_over_a_send_log_so_nobody_gets_it_twice(site, smtp, page):
    """A send from the terminal holds the send log while its second message waits at the server:
    a send from the page, and one from another terminal, are refused at once, naming the log."""
    root, address = site
    people = ["Eve Moss;eve@example.org;Monday", "Fay Ng;fay@example.org;Monday", "Gus Ito;gus@example.org;Monday"]
    write(root / "lock-people.csv", "name;email;group\n" + "\n".join(people) + "\n")
    write(root / "message.md", f"---\nsubject: \"{SUBJECT}\"\n---\n{BODY}\n")
    smtp.holding, smtp.released, smtp.hold_after = threading.Event(), threading.Event(), len(smtp.messages) + 1
    command = [sys.executable, "-m", "generator", "mail", "lock-people.csv", "--article", "content/flu.md",
               "--message", "message.md", "--send"]
    first = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert smtp.holding.wait(BUILD_MS / 1000), "the terminal's second message never reached the server"
        open_send_page(page, address, people)
        press(page, "#send")
        page.wait_for_selector("#run-status:has-text('another send is running')", timeout=60_000)
        refusal = page.inner_text("#run-status")
        assert f"mail-log.jsonl: error: another send is running with this send log (process {first.pid})" in refusal
        second = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=BUILD_MS / 1000)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert [line for line in second.stderr.splitlines() if "another send is running" in line] == [
            f"output/mail-log.jsonl: error: another send is running with this send log (process {first.pid}):"
            " nothing was sent; wait for it to end, or stop it, then send again"]
    finally:
        smtp.released.set()
        out, err = first.communicate(timeout=BUILD_MS / 1000)
    assert first.returncode == 0, err
    got = smtp.recipients()
    assert [got[f"{who}@example.org"] for who in ("eve", "fay", "gus")] == [1, 1, 1]
    press(page, "#send")
    page.wait_for_selector("#run-status:has-text('0 sent, 3 sent before, 0 failed.')", timeout=60_000)
    assert smtp.recipients() == got


def test_a_test_send_goes_to_the_test_address_alone_and_marks_nobody_sent(site, smtp, page):
    root, address = site
    people = ["Hal Berg;hal@example.org;Wednesday", "Ivy Chan;ivy@example.org;Wednesday"]
    open_send_page(page, address, people)
    press(page, "#send-test")
    page.wait_for_selector("#run-status:has-text('write the address to send the test to')")
    page.fill("#test-to", "me@clinic.example")
    press(page, "#send-test")
    page.wait_for_selector("#run-status:has-text('Test: hal@example.org')")
    assert page.inner_text("#run-status") == ("Test: hal@example.org's message sent to me@clinic.example. Nobody on the"
                                              " list was sent anything, and nothing was logged as sent.")
    assert serious_violations(page) == []
    got = smtp.recipients()
    assert got["me@clinic.example"] == 1 and got["hal@example.org"] == got["ivy@example.org"] == 0
    test = email.message_from_bytes(smtp.messages[-1][1], policy=email.policy.default)
    assert test["Subject"] == "Your handout for Wednesday, Hal Berg"
    log = root / "output" / "mail-log.jsonl"
    assert "hal@example.org" not in (log.read_text() if log.exists() else "")
    press(page, "#send")
    page.wait_for_selector("#run-status:has-text('2 sent, 0 sent before, 0 failed.')")
    got = smtp.recipients()
    assert [got["me@clinic.example"], got["hal@example.org"], got["ivy@example.org"]] == [1, 1, 1]


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
