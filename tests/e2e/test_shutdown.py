"""SIGTERM a real `tropa run` in the middle of a 2,000-subscriber digest run, restart it: nobody missed, no one twice.

The sibling of test_digest_crash: a clean stop keeps the digest guarantee too, exits 0 within 10 seconds, and
does so whether the bot polls or sits behind a webhook.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.digest import WINDOW
from tests.e2e.conftest import KEY, TOKEN
from tests.e2e.digest_setup import delivered, subscribed_database
from tests.e2e.test_webhook import SECRET, URL, free_port
from tests.emulator import BotApiEmulator

SUBSCRIBERS = 2000
STOP_LIMIT = 10.0


def tropa_run(emu: BotApiEmulator, db_path: Path, log: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """`tropa run` in its own process, delivering every second at 400 messages a second; stderr to log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env.update(
        {
            "TROPA_BOT_TOKEN": TOKEN,
            "TROPA_SECRET_KEY": KEY,
            "TROPA_DB_PATH": str(db_path),
            "TROPA_API_BASE_URL": emu.base_url,
            "TROPA_DIGEST_INTERVAL": "1",
            "TROPA_DIGEST_RATE": "400",
            "TROPA_LOG_LEVEL": "INFO",
            **extra,
        }
    )
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err
        )


async def stop(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, wait for the exit; the seconds it took."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(process.wait, 30)
    return time.monotonic() - started


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_sigterm_mid_digest_run_loses_no_one_and_exits_0_in_time(
    emulator: BotApiEmulator, tmp_path: Path, mode: str
) -> None:
    db_path, log = tmp_path / "stop.sqlite3", tmp_path / "stderr.log"
    ids = [8200000 + n for n in range(SUBSCRIBERS)]
    await subscribed_database(db_path, emulator, ids)
    extra: dict[str, str] = {}
    if mode == "webhook":
        port = free_port()
        extra = {"TROPA_WEBHOOK_URL": URL, "TROPA_WEBHOOK_SECRET": SECRET, "TROPA_PORT": str(port)}
        emulator.route_webhook(f"http://127.0.0.1:{port}")

    first = tropa_run(emulator, db_path, log, extra)
    try:
        await emulator.wait_for(lambda: sum(delivered(emulator).values()) >= 600, timeout=120)
        took = await stop(first)
    finally:
        first.kill()
    assert first.returncode == 0, log.read_text()
    assert took < STOP_LIMIT, f"stopping took {took:.1f} s"
    before_restart = sum(delivered(emulator).values())
    assert before_restart < SUBSCRIBERS, "the run finished before the stop: the test proved nothing"
    stopped_log = log.read_text()
    assert "event=stopping" in stopped_log
    assert "stopped=1" in stopped_log, stopped_log
    assert "event=stop_timeout" not in stopped_log
    assert "Traceback" not in stopped_log

    second = tropa_run(emulator, db_path, log, extra)
    try:
        await emulator.wait_for(lambda: set(delivered(emulator)) == set(ids), timeout=120)
        await asyncio.sleep(1.5)  # another delivery run or two: nothing more may go out
        assert await stop(second) < STOP_LIMIT
    finally:
        second.kill()
    assert second.returncode == 0, log.read_text()

    counts = delivered(emulator)
    assert set(counts) == set(ids), "someone got no digest"
    doubles = [chat for chat, n in counts.items() if n > 1]
    assert all(counts[chat] == 2 for chat in doubles)
    assert len(doubles) <= WINDOW, f"{len(doubles)} doubles: more than the sends in flight"
    if mode == "webhook":
        assert emulator.calls("getUpdates") == []
