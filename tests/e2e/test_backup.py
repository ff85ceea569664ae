"""`tropa backup` while a real `tropa run` delivers digests, then `tropa restore` into a new path and `tropa health`."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import struct
import subprocess
import sys
from pathlib import Path

from bot.config import REPO_ROOT
from tests.e2e.conftest import KEY
from tests.e2e.digest_setup import delivered, subscribed_database
from tests.e2e.test_shutdown import stop, tropa_run
from tests.emulator import BotApiEmulator
from tests.helpers import on_disk

SUBSCRIBERS = 2000


async def tropa(*args: str, db_path: Path) -> subprocess.CompletedProcess[str]:
    """A one-shot `tropa` command on db_path with the key set, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env.update({"TROPA_DB_PATH": str(db_path), "TROPA_SECRET_KEY": KEY})
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def holdings(path: Path) -> tuple[set[bytes], set[tuple[str, str, str, int]]]:
    """Every subscriber (by lookup) and every item with its live revision."""
    db = sqlite3.connect(path)
    try:
        lookups = {row[0] for row in db.execute("SELECT lookup FROM subscribers")}
        items = set(db.execute("SELECT section, slug, lang, published_revision FROM items"))
        return lookups, items
    finally:
        db.close()


async def test_a_backup_during_delivery_restores_into_a_healthy_database(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    db_path, log = tmp_path / "live" / "tropa.sqlite3", tmp_path / "stderr.log"
    ids = [8300000 + n for n in range(SUBSCRIBERS)]
    db_path.parent.mkdir()
    await subscribed_database(db_path, emulator, ids)
    copy = tmp_path / "backups" / "tropa-backup.sqlite3"

    bot = tropa_run(emulator, db_path, log, {})
    try:
        await emulator.wait_for(lambda: sum(delivered(emulator).values()) >= 300, timeout=120)
        made = await tropa("backup", str(copy), db_path=db_path)
        during = sum(delivered(emulator).values())
        assert await stop(bot) < 10
    finally:
        bot.kill()
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backed up {db_path} to {copy}: schema ")
    assert during < SUBSCRIBERS, "delivery had finished before the backup: the test proved nothing"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not copy.with_name(copy.name + "-wal").exists()
    with copy.open("rb") as handle:
        assert handle.read(20)[18:20] == b"\x02\x02", "the copy is not in WAL mode"

    restored_path = tmp_path / "elsewhere" / "restored.sqlite3"
    restored = await tropa("restore", str(copy), db_path=restored_path)
    assert restored.returncode == 0, restored.stderr
    health = await tropa("health", db_path=restored_path)
    assert health.returncode == 0, health.stderr
    assert health.stdout.startswith("healthy: schema ")
    assert f"{SUBSCRIBERS} subscribers" in health.stdout

    lookups, items = holdings(restored_path)
    assert (lookups, items) == holdings(db_path)
    assert len(lookups) == SUBSCRIBERS
    assert items
    # What a stolen backup shows of the people in it: nothing that names a chat.
    blob = on_disk(copy) + on_disk(restored_path)
    for chat in ids:
        for needle in (str(chat).encode(), struct.pack("<q", chat), struct.pack(">q", chat)):
            assert needle not in blob


async def test_restore_refuses_while_a_bot_has_the_database_open(emulator: BotApiEmulator, tmp_path: Path) -> None:
    db_path, log = tmp_path / "tropa.sqlite3", tmp_path / "stderr.log"
    await subscribed_database(db_path, emulator, [8400001])
    copy = tmp_path / "copy.sqlite3"
    assert (await tropa("backup", str(copy), db_path=db_path)).returncode == 0
    bot = tropa_run(emulator, db_path, log, {})
    try:
        await emulator.wait_for(lambda: bool(emulator.calls("getUpdates")), timeout=60)
        refused = await tropa("restore", "--force", str(copy), db_path=db_path)
    finally:
        await stop(bot)
        bot.kill()
    assert refused.returncode == 1
    assert (
        refused.stderr == f"tropa: {db_path}: a running bot has this database open: stop the bot first, then restore\n"
    )
    after_stop = await tropa("restore", "--force", str(copy), db_path=db_path)
    assert after_stop.returncode == 0, after_stop.stderr
