"""The one logging setup: quiet libraries and a redacting filter on the handler."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

# Loggers that can carry tokens (httpx URLs), whole updates (telegram at DEBUG) or job names (apscheduler).
NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio", "hpack", "tornado")
TOKEN_RE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,60}")
DIGITS_RE = re.compile(r"(?<![0-9])-?[0-9]{6,}(?![0-9])")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    """Mask token-shaped strings and long digit runs (chat and user ids)."""
    return DIGITS_RE.sub("<num>", TOKEN_RE.sub("<token>", text))


class RedactingFilter(logging.Filter):
    """Second line of defence: rewrite every record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not leak its arguments either
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Install one redacting stderr handler on the root logger; libraries stay at WARNING."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tropa", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    handler._tropa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
