"""The send log, output/mail-log.jsonl: who was sent what, so nobody gets a message twice.

One JSON line per message sent, failed for good, or unconfirmed (the server
took the whole message but did not answer in time: it may have arrived),
written and synced at once, so a run stopped at any point leaves a true log.
"""

from __future__ import annotations

import datetime
import json
import os
from email.utils import format_datetime
from pathlib import Path

SENT, FAILED, UNCONFIRMED = "sent", "failed", "unconfirmed"


class SendLog:
    def __init__(self, path: Path):
        self.path = path
        # address (lower case) -> {key: status} of what went to them, sent or unconfirmed
        self.delivered: dict[str, dict[str, str]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if isinstance(entry, dict) and entry.get("status") in (SENT, UNCONFIRMED):
                    self.remember(entry.get("email", ""), entry.get("key", ""), entry["status"])

    def remember(self, email: str, key: str, status: str) -> None:
        earlier = self.delivered.setdefault(email.lower(), {})
        if earlier.get(key) != SENT:
            earlier[key] = status

    def earlier(self, email: str, key: str) -> str | None:
        """What this address was sent before: 'same' (this very message), 'unconfirmed'
        (this message, perhaps), 'changed' (another version of it), or None."""
        earlier = self.delivered.get(email.lower())
        if not earlier:
            return None
        if earlier.get(key) == SENT:
            return "same"
        if key in earlier:
            return "unconfirmed"
        return "changed"

    def record(self, email: str, key: str, status: str, detail: str = "", attachment_sha256: str = "") -> None:
        """One line for a message; `attachment_sha256`, of the PDF it carried, lets anyone
        prove which version of the handout a person received."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            now = datetime.datetime.now(datetime.UTC)
            log.write(json.dumps({"time": format_datetime(now), "email": email, "key": key, "status": status,
                                  "detail": detail, "attachment_sha256": attachment_sha256}) + "\n")
            log.flush()
            os.fsync(log.fileno())
        if status in (SENT, UNCONFIRMED):
            self.remember(email, key, status)
