"""The one logging setup: quiet libraries and a redacting filter on the handler."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO

from telegram.error import InvalidToken

# Loggers that can carry tokens (httpx URLs), whole updates (telegram at DEBUG) or job names (apscheduler).
NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio", "hpack", "tornado")
TOKEN_RE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,60}")
DIGITS_RE = re.compile(r"(?<![0-9])-?[0-9]{6,}(?![0-9])")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A library record may carry a whole object as an argument: python-telegram-bot logs the raw update it could not
# parse at CRITICAL, names and message texts included. Only plain values survive into library lines.
PLAIN = (str, int, float, type(None), BaseException)


MIN_SECRET = 8  # shorter values would mask ordinary words; every secret we hold is far longer


def secrets_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any of the secret values (longest first, so a value inside another is masked whole)."""
    values = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in values)) if values else None


def redact(text: str, secrets: re.Pattern[str] | None = None) -> str:
    """Mask the given secret values, token-shaped strings and long digit runs (chat and user ids)."""
    if secrets is not None:
        text = secrets.sub("<secret>", text)
    return DIGITS_RE.sub("<num>", TOKEN_RE.sub("<token>", text))


def plain_only(args: tuple[object, ...] | Mapping[str, object] | None) -> tuple[object, ...] | dict[str, object] | None:
    """Record arguments with every object, list or dict replaced by "<data>" (logging turns a lone dict into args)."""
    if isinstance(args, Mapping):
        return {key: arg if isinstance(arg, PLAIN) else "<data>" for key, arg in args.items()}
    if args is None:
        return None
    return tuple(arg if isinstance(arg, PLAIN) else "<data>" for arg in args)


class RedactingFilter(logging.Filter):
    """Second line of defence: rewrite every record before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = secrets_pattern(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in NOISY_LOGGERS:
            record.args = plain_only(record.args)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not leak its arguments either
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class RefusedTokenFilter(logging.Filter):
    """Drop python-telegram-bot's traceback for a refused token: `tropa` reports it in one line naming the variable."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, InvalidToken):
                return False
            error = error.__cause__ or error.__context__
        return True


def setup_logging(level: str = "INFO", stream: TextIO | None = None, secrets: Iterable[str] = ()) -> logging.Handler:
    """Install one redacting stderr handler on the root logger; libraries stay at WARNING.

    secrets are values to mask wherever they appear (Settings.secrets(): the token, the key, any other SecretStr).
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tropa", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    handler._tropa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The start-up retry loop logs to the bare "telegram.ext" logger, so a filter there sees its records.
    startup = logging.getLogger("telegram.ext")
    if not any(isinstance(f, RefusedTokenFilter) for f in startup.filters):
        startup.addFilter(RefusedTokenFilter())
    return handler
