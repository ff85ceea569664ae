"""The one logging setup: quiet libraries and a redacting filter on the handler."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO

# Loggers that can carry tokens (httpx URLs), whole updates (telegram at DEBUG) or job names (apscheduler).
NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio", "hpack", "tornado")
TOKEN_RE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,60}")
DIGITS_RE = re.compile(r"(?<![0-9])-?[0-9]{6,}(?![0-9])")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A library record may carry a whole object as an argument: python-telegram-bot logs the raw update it could not
# parse at CRITICAL, names and message texts included. Only plain values survive into library lines.
PLAIN = (str, int, float, type(None), BaseException)
SHORT_SECRET = 12  # secrets shorter than this are masked only as whole words


def redact(text: str, secrets: re.Pattern[str] | None = None) -> str:
    """Mask the known secrets, token-shaped strings and long digit runs (chat and user ids)."""
    if secrets is not None:
        text = secrets.sub("<secret>", text)
    return DIGITS_RE.sub("<num>", TOKEN_RE.sub("<token>", text))


def secrets_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for the exact secrets (the webhook secret, the key): anywhere, or as whole words if short.

    A webhook secret may be a single character; masking every "a" in every line would hide the log, not the secret.
    """
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
    long = [re.escape(s) for s in ordered if len(s) >= SHORT_SECRET]
    short = [re.escape(s) for s in ordered if len(s) < SHORT_SECRET]
    parts = ["|".join(long)] if long else []
    if short:
        parts.append(rf"(?<![A-Za-z0-9_-])(?:{'|'.join(short)})(?![A-Za-z0-9_-])")
    return re.compile("|".join(parts)) if parts else None


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


def setup_logging(level: str = "INFO", stream: TextIO | None = None, secrets: Iterable[str] = ()) -> logging.Handler:
    """Install one redacting stderr handler on the root logger; libraries stay at WARNING.

    secrets: exact values (the webhook secret, the key) to mask besides anything token- or id-shaped.
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
    return handler
