"""`tropa console`: the real Application and handlers over an in-process Bot API, in a terminal.

No token and no network: requests never leave the process. Buttons are shown as numbered choices.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from telegram.request import BaseRequest, RequestData

from bot.config import Settings
from storage.crypto import new_master_key

CONSOLE_TOKEN = "1000000001:CONSOLE-no-network-token-000000000000"  # noqa: S105 (never leaves the process)
BOT_USER = {
    "id": 1000000001,
    "is_bot": True,
    "first_name": "Tropa",
    "username": "tropa_console_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
LINK_RE = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
TAG_RE = re.compile(r"<[^>]+>")


def to_terminal(text_html: str, bold: bool) -> str:
    """Telegram HTML as terminal text: links with their address, bold as ANSI where it helps."""

    def plain(fragment: str) -> str:
        if bold:
            fragment = re.sub(r"<b>(.*?)</b>", "\033[1m\\1\033[0m", fragment, flags=re.S)
        return html.unescape(TAG_RE.sub("", fragment))

    out, pos = [], 0
    for link in LINK_RE.finditer(text_html):
        out.append(plain(text_html[pos : link.start()]))
        out.append(f"{plain(link.group(2))} ({html.unescape(link.group(1))})")
        pos = link.end()
    out.append(plain(text_html[pos:]))
    return "".join(out)


class ConsoleApi:
    """The Bot API of one private chat, kept in memory and printed to a terminal."""

    def __init__(self, out: TextIO, user_lang: str) -> None:
        self.out = out
        self.bold = out.isatty()
        self.user = {"id": 424242, "is_bot": False, "first_name": "You", "language_code": user_lang}
        self.chat = {"id": 424242, "type": "private", "first_name": "You"}
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.messages: dict[int, dict[str, Any]] = {}
        self.buttons: list[tuple[int, dict[str, Any]]] = []
        self.next_message_id = 1
        self.next_update_id = 1
        self.last_call = 0.0

    def _message(self, text: str, from_bot: bool, markup: Any = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.next_message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": BOT_USER if from_bot else self.user,
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        self.next_message_id += 1
        self.messages[message["message_id"]] = message
        return message

    def _push(self, kind: str, payload: dict[str, Any]) -> None:
        self.updates.put_nowait({"update_id": self.next_update_id, kind: payload})
        self.next_update_id += 1

    def type_line(self, line: str) -> None:
        """Turn what the person typed into an update: a number presses a button, @ starts an inline query."""
        line = line.strip()
        if not line:
            return
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            message_id, button = self.buttons[int(line) - 1]
            if "url" in button:
                print(f"(link: {button['url']})", file=self.out)
                return
            query = {
                "id": str(self.next_update_id),
                "from": self.user,
                "chat_instance": "console",
                "message": self.messages[message_id],
                "data": button.get("callback_data", ""),
            }
            self._push("callback_query", query)
            return
        if line.startswith("@"):
            inline = {"id": str(self.next_update_id), "from": self.user, "query": line[1:].strip(), "offset": ""}
            self._push("inline_query", inline)
            return
        message = self._message(line, from_bot=False)
        if line.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(line.split()[0])}]
        self._push("message", message)

    def _show(self, message: dict[str, Any], edited: bool) -> None:
        print(("\n(edited)\n" if edited else "\n") + to_terminal(message["text"], self.bold), file=self.out)
        self.buttons = []
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            labels = []
            for button in row:
                self.buttons.append((message["message_id"], button))
                labels.append(f"[{len(self.buttons)}] {button['text']}")
            print("   ".join(labels), file=self.out)
        print("> ", end="", file=self.out, flush=True)

    async def settle(self, quiet: float = 0.15, limit: float = 3.0) -> None:
        """Wait until the bot has answered what was typed, so the next line sees its buttons."""
        pushed = time.monotonic()
        while time.monotonic() - pushed < limit:
            await asyncio.sleep(0.02)
            answered = self.last_call > pushed and self.updates.empty()
            if answered and time.monotonic() - self.last_call > quiet:
                return

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Answer one Bot API method the way Telegram would for this single chat."""
        if method != "getUpdates":
            self.last_call = time.monotonic()
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return await self._get_updates(float(params.get("timeout") or 0))
        if method == "sendMessage":
            message = self._message(str(params["text"]), from_bot=True, markup=_json(params.get("reply_markup")))
            self._show(message, edited=False)
            return message
        if method == "editMessageText":
            message = self.messages[int(params["message_id"])]
            message["text"] = str(params["text"])
            message.pop("reply_markup", None)
            if params.get("reply_markup"):
                message["reply_markup"] = _json(params["reply_markup"])
            message["edit_date"] = int(time.time())
            self._show(message, edited=True)
            return message
        if method == "answerCallbackQuery":
            if params.get("text"):
                print(f"({params['text']})", file=self.out)
            return True
        if method == "answerInlineQuery":
            results = _json(params.get("results")) or []
            print("\n(inline results) " + "; ".join(r.get("title", "") for r in results), file=self.out)
            print("> ", end="", file=self.out, flush=True)
            return True
        if method in {"deleteMessage", "deleteMessages"}:
            ids = _json(params.get("message_ids")) or [params.get("message_id")]
            gone = [self.messages.pop(int(i)) for i in ids if i is not None and int(i) in self.messages]
            if gone:
                print(f"\n(the bot deleted {len(gone)} messages above)", file=self.out)
            return True
        if method == "getMyDescription":
            return {"description": ""}
        if method == "getMyShortDescription":
            return {"short_description": ""}
        if method in {
            "deleteWebhook",
            "setMyCommands",
            "setMyDescription",
            "setMyShortDescription",
            "sendChatAction",
            "close",
            "logOut",
        }:
            return True
        raise LookupError(method)

    async def _get_updates(self, wait: float) -> list[dict[str, Any]]:
        try:
            first = await asyncio.wait_for(self.updates.get(), timeout=max(wait, 0.05))
        except TimeoutError:
            return []
        batch = [first]
        while not self.updates.empty():
            batch.append(self.updates.get_nowait())
        return batch


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class ConsoleRequest(BaseRequest):
    """A BaseRequest that hands every call to the in-process ConsoleApi."""

    def __init__(self, api: ConsoleApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        try:
            result = await self.api.call(name, dict(params))
        except LookupError:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        return 200, json.dumps({"ok": True, "result": result}).encode("utf-8")


async def _read_input(api: ConsoleApi, stop: asyncio.Event) -> None:
    while not stop.is_set():
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or line.strip() in {"/quit", "/exit"}:
            stop.set()
            return
        api.type_line(line)
        await api.settle()


def run_console(settings: Settings, lang: str | None) -> int:
    """Run the bot against the terminal until EOF or /quit."""
    from bot.app import build_application

    overrides: dict[str, Any] = {"bot_token": SecretStr(CONSOLE_TOKEN), "api_base_url": "http://console.invalid/bot"}
    workdir = None
    if "db_path" not in settings.model_fields_set:
        workdir = tempfile.TemporaryDirectory(prefix="tropa-console-")
        overrides["db_path"] = Path(workdir.name) / "console.sqlite3"
    console_settings = settings.model_copy(update=overrides)
    key = settings.key() if settings.secret_key else new_master_key()
    api = ConsoleApi(sys.stdout, lang or "ru")
    app = build_application(
        console_settings,
        key=key,
        request=ConsoleRequest(api),
        get_updates_request=ConsoleRequest(api),
        broadcast_request=ConsoleRequest(api),
    )
    print(
        "Tropa console: type words to search, /start for the menu, a number to press a button, "
        "@words for inline mode, /quit to leave.",
        file=sys.stdout,
    )
    try:
        asyncio.run(_serve(app, api))
    finally:
        if workdir is not None:
            workdir.cleanup()
    return 0


async def _serve(app: Any, api: ConsoleApi) -> None:
    from bot.app import polling

    async with polling(app, poll_timeout=1):
        api.type_line("/start")
        await api.settle()
        await _read_input(api, asyncio.Event())
