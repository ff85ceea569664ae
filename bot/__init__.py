"""Tropa: everything that knows Telegram."""

import os

# Opt into python-telegram-bot's timedelta retry_after now; otherwise every RetryAfter warns of the coming change.
os.environ.setdefault("PTB_TIMEDELTA", "1")
