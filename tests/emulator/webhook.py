"""Telegram's side of a webhook: POST each pending update to the bot until it answers 2xx, like Telegram does.

Telegram only posts to https URLs; the bot behind a TLS-terminating proxy listens on plain http. A test names the
address the proxy would forward to (route), always on loopback, and the emulator posts there with the path of the
registered URL. Updates are delivered one at a time, oldest first; one that is refused stays pending and is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from .state import JSON, EmulatorState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REGISTERED: Final = "registered"  # send the secret_token given to setWebhook
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Delivery:
    """One POST to the bot: which update, which secret header went with it, and the answer."""

    update_id: int
    secret: str | None
    status: int | None  # None: no HTTP answer at all (connection refused, timeout)
    time: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookPusher:
    """Delivers the update queue to the registered webhook while one is set and a route is known."""

    def __init__(self, state: EmulatorState, *, retry_delay: float = 0.1, timeout: float = 5.0) -> None:
        self.state = state
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.route: str | None = None
        self.secret: str | None = REGISTERED
        self.deliveries: list[Delivery] = []
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def set_route(self, address: str) -> None:
        """Forward the public https URL to this http address on loopback (what the reverse proxy does)."""
        parts = urlsplit(address)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK or parts.path not in ("", "/"):
            raise ValueError("a webhook route is http://127.0.0.1:PORT: the emulator never leaves this machine")
        self.route = f"http://{parts.netloc}"
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._deliver_forever())
        self.state.updates.wake()

    def target(self, hook: JSON) -> str:
        """The loopback URL a request to the registered webhook URL lands on."""
        assert self.route is not None
        parts = urlsplit(hook["url"])
        return self.route + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def header(self, hook: JSON) -> str | None:
        """The secret header value to send: the registered one unless a test forged another (or none)."""
        return hook.get("secret_token") if self.secret == REGISTERED else self.secret

    async def post(self, update: JSON, secret: str | None, url: str) -> int | None:
        """POST one update as Telegram does; the HTTP status, or None if nothing answered."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        self.in_flight += 1
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return None
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _deliver_forever(self) -> None:
        queue = self.state.updates
        while True:
            hook = self.state.webhook
            update = queue.peek() if hook is not None and self.route is not None else None
            if hook is None or update is None:
                await queue.wait(1.0)
                continue
            secret = self.header(hook)
            status = await self.post(update, secret, self.target(hook))
            update_id = int(update["update_id"])
            self.deliveries.append(Delivery(update_id, secret, status, time.time()))
            if status is not None and 200 <= status < 300:
                queue.confirm(update_id + 1)
                continue
            reason = f"Wrong response from the webhook: {status}" if status is not None else "Connection refused"
            self.state.webhook_error = (int(self.state.now()), reason)
            await asyncio.sleep(self.retry_delay)

    async def stop(self) -> None:
        """Stop delivering and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
