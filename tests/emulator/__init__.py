"""A strict loopback Telegram Bot API emulator for tests and benchmarks."""

from .emulator import DEFAULT_TOKEN, BotApiEmulator, command_entities
from .errors import ApiError
from .html_entities import HtmlParseError, parse_html, utf16_len
from .state import Chat, FakeUser, Msg, Req

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiEmulator",
    "Chat",
    "FakeUser",
    "HtmlParseError",
    "Msg",
    "Req",
    "command_entities",
    "parse_html",
    "utf16_len",
]
