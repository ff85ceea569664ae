"""Injected faults, slow answers and Telegram-like flood control."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from .errors import ApiError, too_many_requests

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
RATE_LIMITED = frozenset({"sendMessage", "copyMessage", "sendDocument"})


@dataclass
class FaultRule:
    """The next `times` calls of method (optionally for one chat) answer with an error."""

    method: str
    code: int
    times: int
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | None = None

    def error(self) -> ApiError:
        """The injected answer."""
        if self.code == 429:
            retry_after = self.retry_after if self.retry_after is not None else 1
            error = too_many_requests(retry_after)
            if self.description:
                error.description = self.description
            return error
        description = self.description or _DEFAULT_DESCRIPTIONS.get(self.code, f"Error {self.code}")
        return ApiError(self.code, description, retry_after=self.retry_after)


@dataclass
class DelayRule:
    """Answers of method are held back for `seconds` (the next `times` calls, or forever)."""

    method: str
    seconds: float
    times: int | None = None


class FaultBook:
    """Pending fault and delay rules, consumed in the order they were added."""

    def __init__(self) -> None:
        self.faults: list[FaultRule] = []
        self.delays: list[DelayRule] = []

    def clear(self) -> None:
        """Forget every rule."""
        self.faults.clear()
        self.delays.clear()

    def take_fault(self, method: str, chat_id: object) -> FaultRule | None:
        """Consume one matching fault, if any."""
        for rule in self.faults:
            if rule.method == method and (rule.chat_id is None or rule.chat_id == chat_id):
                rule.times -= 1
                if rule.times <= 0:
                    self.faults.remove(rule)
                return rule
        return None

    def take_delay(self, method: str) -> float:
        """Consume one matching delay and return its seconds (0 when none)."""
        for rule in self.delays:
            if rule.method == method:
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self.delays.remove(rule)
                return rule.seconds
        return 0.0


class _Window:
    """Timestamps of accepted sends within the sliding window of one limit."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def retry_after(self, now: float, rate: float) -> int | None:
        """Seconds to wait if one more send would exceed `rate` per second, else None."""
        span = max(1.0, 1.0 / rate)
        capacity = max(1, math.floor(rate * span))
        stamps = self.stamps
        while stamps and stamps[0] <= now - span:
            stamps.popleft()
        if len(stamps) < capacity:
            return None
        return max(1, math.ceil(stamps[len(stamps) - capacity] + span - now))


class RateLimiter:
    """Sliding-window flood control for sendMessage/copyMessage/sendDocument."""

    def __init__(self) -> None:
        self.per_second: float | None = None
        self.per_chat_per_second: float | None = None
        self.paid_rate: float = 1000.0
        self._overall = _Window()
        self._paid = _Window()
        self._chats: dict[int, _Window] = {}

    @property
    def enabled(self) -> bool:
        """True when any limit is configured."""
        return self.per_second is not None or self.per_chat_per_second is not None

    def configure(self, per_second: float | None, per_chat_per_second: float | None) -> None:
        """Set the limits (None disables one) and forget the history."""
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self._overall = _Window()
        self._paid = _Window()
        self._chats = {}

    def check(self, chat_id: int, paid: bool, now: float | None = None) -> ApiError | None:
        """Admit one send (recording it) or return the 429 Telegram would answer."""
        now = time.monotonic() if now is None else now
        windows: list[tuple[_Window, float]] = []
        overall_rate = self.paid_rate if paid else self.per_second
        if overall_rate is not None:
            windows.append((self._paid if paid else self._overall, overall_rate))
        if self.per_chat_per_second is not None:
            windows.append((self._chats.setdefault(chat_id, _Window()), self.per_chat_per_second))
        waits = [wait for window, rate in windows if (wait := window.retry_after(now, rate)) is not None]
        if waits:
            return too_many_requests(max(waits))
        for window, _ in windows:
            window.stamps.append(now)
        return None
