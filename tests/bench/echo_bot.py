"""A bare python-telegram-bot echo bot: one sendMessage per text update, nothing else.

Run as a process by the throughput benchmark:  python -m tests.bench.echo_bot BASE_URL TOKEN TRANSPORT
TRANSPORT is `default` (PTB's own httpx defaults), `httpx-tuned` (a small pool, which suits a local server) or
`aiohttp` (the transport Tropa ships).
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.transport import AiohttpRequest


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with the same text."""
    if update.effective_chat and update.effective_message and update.effective_message.text:
        await update.effective_chat.send_message(update.effective_message.text)


def main(base_url: str, token: str, transport: str) -> None:
    builder = ApplicationBuilder().token(token).base_url(base_url).concurrent_updates(True)
    if transport == "httpx-tuned":
        builder = builder.request(HTTPXRequest(connection_pool_size=8)).concurrent_updates(16)
    elif transport == "aiohttp":
        builder = builder.request(AiohttpRequest(connection_limit=64)).get_updates_request(AiohttpRequest(1))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0, timeout=1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
