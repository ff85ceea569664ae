"""`tropa run` against the emulator: a key that does not open the database stops it with one line, exit 2."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import sys
from pathlib import Path

from bot.config import REPO_ROOT
from storage import subscribers
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.subscribers import Schedule
from tests.e2e.conftest import TOKEN
from tests.emulator import BotApiEmulator


async def test_a_wrong_key_stops_start_up(emulator: BotApiEmulator, tmp_path: Path) -> None:
    db_path = tmp_path / "sealed.sqlite3"
    db = await connect(db_path)
    try:
        await migrate(db)
        await subscribers.save(
            db, Keys.from_master(bytes(32)), 5551234, Schedule(1, "daily", None, 3), "en", dt.datetime.now(dt.UTC)
        )
    finally:
        await db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env.update(
        {
            "TROPA_BOT_TOKEN": TOKEN,
            "TROPA_API_BASE_URL": emulator.base_url,
            "TROPA_DB_PATH": str(db_path),
            "TROPA_SECRET_KEY": base64.urlsafe_b64encode(bytes([7]) * 32).decode(),
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = err.decode().splitlines()
    assert process.returncode == 2, err.decode()
    assert lines[-1].startswith("tropa: TROPA_SECRET_KEY does not open the subscribers")
    assert "Traceback" not in err.decode()
