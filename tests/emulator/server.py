"""The aiohttp app: routing, parameter decoding, faults and request recording."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from functools import partial
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request
from .faults import FaultBook, RateLimiter
from .methods import MAX_UPLOAD, BotApi
from .state import EmulatorState, Req
from .validate import CANONICAL, FIELDS, Upload, decode_params

_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def json_response(payload: Any, status: int = 200) -> web.Response:
    """Telegram's JSON answer: UTF-8, or escaped ASCII when a test pushed a lone surrogate UTF-8 cannot carry."""
    try:
        body = _dumps(payload).encode("utf-8")
    except UnicodeEncodeError:
        body = json.dumps(payload, separators=(",", ":")).encode("ascii")
    return web.Response(body=body, status=status, content_type="application/json")


NOT_FOUND = ApiError(404, "Not Found")


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query-string and body parameters (form, multipart or JSON) like the Bot API server."""
    raw: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return raw
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(body, dict):
            raise bad_request("JSON encoded request must be an Object")
        raw.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                raw[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
    return raw


class ApiServer:
    """Serves /bot<token>/<method> and /file/bot<token>/<path> for one bot on loopback."""

    def __init__(self, token: str, state: EmulatorState) -> None:
        self.token = token
        self.state = state
        self.limiter = RateLimiter()
        self.faults = FaultBook()
        self.api = BotApi(state, self.limiter)
        self.requests: list[Req] = []
        self.refused: list[Req] = []
        self.by_method: dict[str, list[Req]] = {}
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        self.app.router.add_route("GET", "/file/bot{token}/{path:.+}", self.handle_file)
        self.app.router.add_route("*", "/{tail:.*}", self.handle_other)

    async def start(self, host: str = "127.0.0.1") -> None:
        """Bind a free port on loopback and serve in the running loop."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        self.port = sock.getsockname()[1]
        self.api.closing = False
        runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self) -> None:
        """Release long-polls and close the server."""
        self.api.shutdown()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await asyncio.sleep(0)
            await runner.cleanup()

    def clear_log(self) -> None:
        """Forget recorded requests and refusals."""
        self.requests.clear()
        self.refused.clear()
        self.by_method.clear()

    def _touch(self) -> None:
        self.last_activity = time.monotonic()

    async def handle_method(self, request: web.Request) -> web.Response:
        """One Bot API call: record it, apply delays/faults, dispatch, answer in Telegram's shape."""
        name = request.match_info["method"]
        method = CANONICAL.get(name.lower(), name)
        polling = method == "getUpdates"
        started = time.monotonic()
        req = Req(method=method, params={}, time=time.time(), content_type=request.content_type)
        self.requests.append(req)
        self.by_method.setdefault(method, []).append(req)
        if not polling:
            self.in_flight += 1
            self.last_activity = started
        try:
            result = await self._process(request, method, req)
        except ApiError as err:
            req.ok, req.error_code, req.description = False, err.code, err.description
            if not req.injected:
                self.refused.append(req)
            return json_response(err.payload(), err.code)
        except asyncio.CancelledError:
            req.ok, req.error_code, req.description = False, 499, "Client Closed Request"
            raise
        finally:
            req.duration = time.monotonic() - started
            if not polling:
                self.in_flight -= 1
                self._touch()
        req.result = result
        if polling and result:
            self._touch()
        return json_response({"ok": True, "result": result})

    async def _process(self, request: web.Request, method: str, req: Req) -> Any:
        if request.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        if method not in FIELDS:
            raise NOT_FOUND
        raw = await read_params(request)
        req.params = raw
        params, req.ignored = decode_params(method, raw)
        req.params = params
        delay = self.faults.take_delay(method)
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self.faults.take_fault(method, params.get("chat_id"))
        if fault is not None:
            req.injected = True
            raise fault.error()
        if method == "getUpdates":
            transport = request.transport
            return await self.api.get_updates(params, lambda: transport is not None and not transport.is_closing())
        return await self.api.handlers[method](params)

    async def handle_file(self, request: web.Request) -> web.Response:
        """Serve an uploaded file's bytes by file_path."""
        self._touch()
        if request.match_info["token"] != self.token:
            return json_response(ApiError(401, "Unauthorized").payload(), 401)
        stored = self.state.file_paths.get(request.match_info["path"])
        if stored is None:
            return json_response(NOT_FOUND.payload(), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def handle_other(self, request: web.Request) -> web.Response:
        """Anything else is Telegram's 404."""
        return json_response(NOT_FOUND.payload(), 404)
