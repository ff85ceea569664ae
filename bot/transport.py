"""An aiohttp transport for python-telegram-bot.

httpx's connection pool scans every connection on every request event, so with many requests in flight its
cost grows with concurrency; aiohttp's does not. Under load this transport roughly triples the updates per
second one core can answer (see README, Benchmarks).
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 5.0
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class AiohttpRequest(BaseRequest):
    """A BaseRequest over one aiohttp session, opened in initialize and closed in shutdown."""

    def __init__(self, connection_limit: int = 64, read_timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self._limit = connection_limit
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """PTB's parser without two hazards of it: a payload it cannot parse is logged whole (people's messages in
        an update), and lone surrogates, which a JSON escape can carry but UTF-8 and SQLite cannot, get through.
        """
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            raise TelegramError("Invalid server response") from None
        if SURROGATE_ESCAPE.search(payload):
            data = _valid_unicode(data)
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=_seconds(connect_timeout, DEFAULT_TIMEOUT),
            sock_read=_seconds(read_timeout, self._read_timeout),
        )
        files = request_data.multipart_data if request_data else None
        # JSON unless files are attached: Telegram accepts it, and encoding long HTML texts as a form costs far more.
        body: dict[str, Any] = (
            {"data": _form(request_data)} if files else {"json": request_data.parameters if request_data else None}
        )
        try:
            async with self._session.request(method, url, timeout=timeout, **body) as response:
                return response.status, await response.read()
        except TimeoutError:
            # Not chained: aiohttp's message names the URL, and the URL carries the token.
            raise TimedOut from None
        except aiohttp.ClientError as exc:
            # The class name only: aiohttp's messages can carry the URL, and the URL carries the token.
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from None


def _valid_unicode(value: Any) -> Any:
    """The JSON value with every lone surrogate in its strings replaced by U+FFFD (paired ones are one character)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, list):
        return [_valid_unicode(item) for item in value]
    if isinstance(value, dict):
        return {_valid_unicode(key): _valid_unicode(item) for key, item in value.items()}
    return value


def _seconds(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _form(request_data: RequestData | None) -> aiohttp.FormData:
    """A multipart form with the fields as PTB encodes them and the attached files."""
    form = aiohttp.FormData(quote_fields=False)  # Telegram shows a quoted file name as it is: %D0%BE...
    if request_data is None:
        return form
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, file in (request_data.multipart_data or {}).items():
        if isinstance(file, tuple):
            filename, content, *rest = file
            form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
        else:
            form.add_field(name, file)
    return form
