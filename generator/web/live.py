"""Live updates: what changes in the project (an article edited in another program, a build)
reaches every open page as a server-sent event, without a reload."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

# A comment line this often keeps proxies and the browser from closing a quiet stream.
KEEP_ALIVE_SECONDS = 15


class Updates:
    """The open pages, each listening to the project's events."""

    def __init__(self) -> None:
        self.listeners: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    def publish(self, event: dict | None) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    def close(self) -> None:
        """End every stream, so the server stops at once (safe from a signal handler)."""
        if self.loop:
            self.loop.call_soon_threadsafe(self.publish, None)

    async def stream(self, request: Request) -> AsyncIterator[str]:
        queue: asyncio.Queue = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.listeners.add(queue)
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if event is None:
                    return
                yield f"data: {json.dumps(event)}\n\n"
        finally:
            self.listeners.discard(queue)

    async def events(self, request: Request) -> Response:
        return StreamingResponse(self.stream(request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
