"""`tropa digest run-once` stopped mid-run (SIGKILL, or SIGTERM cleanly), restarted: no one missed, few doubles."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.config import REPO_ROOT
from bot.digest import WINDOW
from tests.e2e.conftest import KEY, TOKEN
from tests.e2e.digest_setup import delivered, subscribed_database
from tests.emulator import BotApiEmulator

SUBSCRIBERS = 2000


def run_once(emu: BotApiEmulator, db_path: Path, *extra: str, capture: bool = True) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TROPA_BOT_TOKEN": TOKEN,
        "TROPA_SECRET_KEY": KEY,
        "TROPA_DB_PATH": str(db_path),
        "TROPA_API_BASE_URL": emu.base_url,
        "TROPA_DIGEST_RATE": "400",
        "TROPA_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "digest", "run-once", *extra],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
    )


async def test_a_killed_run_loses_no_one(emulator: BotApiEmulator, tmp_path: Path) -> None:
    db_path = tmp_path / "crash.sqlite3"
    ids = [8100000 + n for n in range(SUBSCRIBERS)]
    await subscribed_database(db_path, emulator, ids)

    first = run_once(emulator, db_path, "--force", capture=False)
    await emulator.wait_for(lambda: sum(delivered(emulator).values()) >= 600, timeout=120)
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)
    assert first.returncode == -signal.SIGKILL
    before_restart = sum(delivered(emulator).values())
    assert before_restart < SUBSCRIBERS, "the run finished before the kill: the test proved nothing"

    second = run_once(emulator, db_path)
    out, err = await asyncio.to_thread(second.communicate, None, 120)
    assert second.returncode == 0, err.decode()
    assert b"sent" in out

    counts = delivered(emulator)
    assert set(counts) == set(ids), "someone got no digest"
    doubles = [chat for chat, n in counts.items() if n > 1]
    assert all(counts[chat] == 2 for chat in doubles)
    assert len(doubles) <= WINDOW, f"{len(doubles)} doubles: more than the sends in flight"


async def test_a_terminated_run_stops_cleanly_and_the_next_one_finishes(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    db_path = tmp_path / "term.sqlite3"
    ids = [8150000 + n for n in range(SUBSCRIBERS)]
    await subscribed_database(db_path, emulator, ids)

    first = run_once(emulator, db_path, "--force")
    await emulator.wait_for(lambda: sum(delivered(emulator).values()) >= 600, timeout=120)
    first.send_signal(signal.SIGTERM)
    out, err = await asyncio.to_thread(first.communicate, None, 10)
    assert first.returncode == 0, err.decode()
    assert b", left for the next run " in out
    assert sum(delivered(emulator).values()) < SUBSCRIBERS, "the run finished before the signal: nothing proved"

    second = run_once(emulator, db_path)
    _, err = await asyncio.to_thread(second.communicate, None, 120)
    assert second.returncode == 0, err.decode()
    counts = delivered(emulator)
    assert set(counts) == set(ids)
    assert len([chat for chat, n in counts.items() if n > 1]) <= WINDOW
