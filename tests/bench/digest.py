"""Digest delivery against the emulator enforcing Telegram's limits, side by side in one run.

The delivering process is the real CLI, `python -m bot digest run-once --force`, in its own process; the emulator
runs here. Each run gets a database prepared beforehand (migrated, the test fixtures imported and aged an hour,
subscribers inserted directly, each with something new) and a fresh emulator with every chat registered.

1. 10,000 subscribers at the free limit (30 messages/s overall): at least 29 messages/s (97 %).
2. The same 10,000 with paid broadcast (TROPA_PAID_BROADCAST=true, the emulator's 1,000/s): at least 970/s.
3. CPU seconds of the delivering process per 1,000 messages, in both runs (user + system, from /proc).
4. Peak memory (VmHWM) of the delivering process delivering to 100,000 subscribers with paid broadcast: <= 150 MB.

A rate runs from the first to the last accepted sendMessage of the run: (accepted - 1) / that span; the CPU per
1,000 covers the same span (/proc is read every 20 ms), the whole process's CPU is printed too. After each run:
every subscriber got exactly one accepted sendMessage, and nothing was refused but 429s. The emulator's garbage
collector is off during a run (its pauses would make it a Telegram that stalls, then admits a burst), and the CPU
that other processes on the machine used meanwhile is printed: on a busy machine the rates come out lower.

Run: .venv/bin/python -m tests.bench.digest
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import REPO_ROOT, decode_key
from storage import content
from storage.content_files import load_tree
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.subscribers import ALL_TOPICS
from tests.emulator import BotApiEmulator

TOKEN = "123456789:AAbenchmark-token-for-the-emulator_x"
KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode("ascii")
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "content"
SUBSCRIBERS = 10_000
MEMORY_SUBSCRIBERS = 100_000
FIRST_CHAT = 5_000_000_000  # user ids of today's size
FREE_RATE = 30.0  # Telegram's overall limit for a bot
PAID_RATE = 1000.0  # with allow_paid_broadcast
PER_CHAT_RATE = 1.0
FREE_TARGET = 29.0  # 97 % of the limit
PAID_TARGET = 970.0
RSS_LIMIT_MB = 150.0
OTHERS_WARN = 0.1  # share of a core used by other processes beyond which the figures are flagged as disturbed
SAMPLE_EVERY = 0.02  # seconds between /proc readings of the delivering process


@dataclass(frozen=True)
class Sample:
    """One reading of the delivering process: wall time, CPU seconds so far, peak RSS so far (kB)."""

    at: float
    cpu: float
    hwm_kb: int


@dataclass
class Run:
    """What one delivery run did, as the emulator and /proc saw it."""

    name: str
    subscribers: int
    paid: bool
    returncode: int = -1
    printed: str = ""
    accepted: int = 0
    throttled: int = 0  # 429 answers
    rate: float = 0.0
    span_s: float = 0.0
    cpu_delivery_s: float = 0.0  # from the last reading before the first accepted send to the first after the last
    cpu_total_s: float = 0.0  # the whole process, start-up included (last reading)
    peak_mb: float = 0.0
    emulator_cpu_s: float = 0.0  # this process's CPU during the run: the emulator, mostly
    others_cpu_s: float = 0.0  # CPU that other processes on this machine used during the run
    wall_s: float = 0.0  # from starting the delivering process to its exit
    problems: list[str] = field(default_factory=list)

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_delivery_s * 1000 / self.accepted if self.accepted else float("nan")


def chat_ids(count: int) -> list[int]:
    return [FIRST_CHAT + n for n in range(count)]


async def prepare(path: Path, ids: list[int]) -> None:
    """A migrated database with the fixture content, an hour old, and every id subscribed with something new."""
    keys = Keys.from_master(decode_key(KEY))
    items, problems = load_tree(FIXTURES)
    if problems:
        raise RuntimeError(f"fixture content has problems: {problems[:3]}")
    db = await connect(path)
    try:
        await migrate(db)
        await content.import_items(db, items)
        await db.execute("UPDATE items SET published_at = published_at - 3600")
        # The newest item of the language whose newest is oldest: one second before it, both languages have news.
        async with db.execute(
            "SELECT MIN(newest) FROM (SELECT MAX(published_at) AS newest FROM items GROUP BY lang)"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        watermark = int(row[0])
        await db.executemany(
            "INSERT INTO subscribers (lookup, sealed, topics, rhythm, weekday, hour, lang, sound, next_due,"
            " last_digest) VALUES (?, ?, ?, 'daily', NULL, 0, ?, 0, 0, ?)",
            [
                (keys.lookup(i), keys.seal(i), ALL_TOPICS, "ru" if n % 2 else "en", watermark - 1)
                for n, i in enumerate(ids)
            ],
        )
        await db.commit()
    finally:
        await db.close()


def environment(emu: BotApiEmulator, db_path: Path, *, paid: bool) -> dict[str, str]:
    """The caller's environment without any TROPA_* of its own, plus the run's settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TROPA_")}
    env.update(
        {
            "TROPA_BOT_TOKEN": TOKEN,
            "TROPA_SECRET_KEY": KEY,
            "TROPA_DB_PATH": str(db_path),
            "TROPA_API_BASE_URL": emu.base_url,
            "TROPA_LOG_LEVEL": "WARNING",
            "TROPA_PAID_BROADCAST": "true" if paid else "false",
        }
    )
    return env


def start(emu: BotApiEmulator, folder: Path, name: str, *, paid: bool) -> subprocess.Popen[bytes]:
    """`tropa digest run-once --force` against the emulator; what it prints goes to files in folder."""
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "digest", "run-once", "--force"],
            env=environment(emu, folder / f"{name}.sqlite3", paid=paid),
            cwd=folder,
            stdout=out,
            stderr=err,
        )


def machine_cpu() -> float:
    """CPU seconds every process on this machine has used so far, all cores together (Linux /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in Path("/proc/stat").read_text().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def read_proc(pid: int) -> Sample | None:
    """User + system CPU seconds and VmHWM of a live process (None once it has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return Sample(time.time(), cpu, int(line.split()[1]))
    return None  # a zombie: its memory is gone


async def watch(process: subprocess.Popen[bytes], timeout: float) -> list[Sample]:  # noqa: ASYNC109
    """Read /proc every SAMPLE_EVERY seconds until the process exits."""
    samples: list[Sample] = []
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            await asyncio.to_thread(process.wait)
            raise TimeoutError(f"the delivering process did not finish within {timeout:.0f} s")
        sample = read_proc(process.pid)
        if sample is not None:
            samples.append(sample)
        await asyncio.sleep(SAMPLE_EVERY)
    return samples


def cpu_between(samples: list[Sample], start: float, end: float) -> float:
    """CPU used from the last reading at or before start to the first reading at or after end."""
    before = [s for s in samples if s.at <= start]
    after = [s for s in samples if s.at >= end]
    first = before[-1] if before else samples[0]
    last = after[0] if after else samples[-1]
    return last.cpu - first.cpu


async def deliver(folder: Path, name: str, count: int, *, paid: bool) -> Run:
    """Prepare, deliver with `tropa digest run-once --force` in its own process, check and measure."""
    run = Run(name, count, paid)
    ids = chat_ids(count)
    begun = time.perf_counter()
    await prepare(folder / f"{name}.sqlite3", ids)
    prepared = time.perf_counter() - begun
    gc.collect()
    async with BotApiEmulator(token=TOKEN) as emu:
        emu.rate_limit(FREE_RATE, PER_CHAT_RATE)
        emu.paid_rate = PAID_RATE
        for chat in ids:
            emu.state.private_chat(emu.user(user_id=chat, first_name="S"))
        print(f"{name}: {count:,} subscribers prepared in {prepared:.1f} s; delivering ...", flush=True)
        # The emulator keeps every request and message it sees; collecting that heap pauses it for a tenth of a
        # second, and a Telegram that stalls and then admits a burst is not what is measured here.
        gc.freeze()
        gc.disable()
        machine, own, began = machine_cpu(), time.process_time(), time.perf_counter()
        try:
            process = start(emu, folder, name, paid=paid)
            samples = await watch(process, timeout=60 + 3 * count / (PAID_RATE if paid else FREE_RATE))
        finally:
            gc.enable()
            gc.unfreeze()
        run.wall_s = time.perf_counter() - began
        machine, own = machine_cpu() - machine, time.process_time() - own
        run.returncode = process.returncode
        run.printed = (folder / f"{name}.out").read_text().strip()
        errors = (folder / f"{name}.err").read_text().strip()
        sends = emu.calls("sendMessage")
        refused = list(emu.refused)
    accepted = [r for r in sends if r.ok]
    run.accepted = len(accepted)
    run.throttled = sum(1 for r in refused if r.error_code == 429)
    if run.returncode != 0:
        run.problems.append(f"exit code {run.returncode}")
    if errors:
        run.problems.append(f"stderr: {errors.splitlines()[-1][:200]}")
    other = Counter(f"{r.error_code} {r.description}" for r in refused if r.error_code != 429)
    if other:
        run.problems.append(f"refused other than 429: {dict(other)}")
    per_chat = Counter(int(r.params["chat_id"]) for r in accepted)
    missing = len(set(ids) - per_chat.keys())
    doubled = sum(1 for n in per_chat.values() if n > 1)
    strangers = len(per_chat.keys() - set(ids))
    if missing or doubled or strangers:
        run.problems.append(f"not exactly one digest each: {missing} got none, {doubled} more than one, {strangers} ?")
    if len(accepted) >= 2:
        times = sorted(r.time for r in accepted)
        run.span_s = times[-1] - times[0]
        run.rate = (len(times) - 1) / run.span_s
        if samples:
            run.cpu_delivery_s = cpu_between(samples, times[0], times[-1])
    if samples:
        run.cpu_total_s = samples[-1].cpu
        run.peak_mb = max(s.hwm_kb for s in samples) / 1024
    run.emulator_cpu_s = own
    run.others_cpu_s = max(0.0, machine - own - run.cpu_total_s)
    print(
        f"{name}: {run.accepted:,} accepted in {run.span_s:.1f} s, {run.throttled} answered 429; "
        f"the CLI printed: {run.printed!r}",
        flush=True,
    )
    del sends, accepted, refused, per_chat
    gc.collect()
    return run


async def measure(folder: Path) -> list[Run]:
    return [
        await deliver(folder, "free", SUBSCRIBERS, paid=False),
        await deliver(folder, "paid", SUBSCRIBERS, paid=True),
        await deliver(folder, "memory", MEMORY_SUBSCRIBERS, paid=True),
    ]


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        free, paid, memory = asyncio.run(measure(Path(folder)))
    checks = [
        free.rate >= FREE_TARGET,
        paid.rate >= PAID_TARGET,
        memory.peak_mb <= RSS_LIMIT_MB,
    ]
    rows = [
        (
            f"rate, {free.subscribers:,} subscribers, free limit ({FREE_RATE:.0f}/s)",
            f"{free.rate:.2f} msg/s",
            f">= {FREE_TARGET:.0f}",
            verdict(checks[0]),
        ),
        (
            f"rate, {paid.subscribers:,} subscribers, paid broadcast ({PAID_RATE:.0f}/s)",
            f"{paid.rate:.1f} msg/s",
            f">= {PAID_TARGET:.0f}",
            verdict(checks[1]),
        ),
        ("CPU per 1,000 messages, free", f"{free.cpu_per_1000:.2f} s", "-", ""),
        ("CPU per 1,000 messages, paid", f"{paid.cpu_per_1000:.2f} s", "-", ""),
        (
            f"peak RSS (VmHWM), {memory.subscribers:,} subscribers, paid",
            f"{memory.peak_mb:.1f} MB",
            f"<= {RSS_LIMIT_MB:.0f} MB",
            verdict(checks[2]),
        ),
    ]
    print()
    print("digest delivery: `tropa digest run-once --force` in its own process, the emulator enforcing the limits")
    width = max(len(r[0]) for r in rows)
    for label, figure, target, mark in rows:
        print(f"  {label:<{width}}  {figure:>13}  {target:>10}  {mark}")
    print()
    for run in (free, paid, memory):
        print(
            f"  {run.name:>6}: {run.accepted:,} sent in {run.span_s:.1f} s ({run.rate:.1f}/s), "
            f"{run.throttled} answered 429, delivery CPU {run.cpu_delivery_s:.2f} s "
            f"({run.cpu_per_1000:.2f} s per 1,000), whole process {run.cpu_total_s:.2f} s, "
            f"peak RSS {run.peak_mb:.1f} MB"
        )
        busy = run.others_cpu_s / run.wall_s if run.wall_s else 0.0
        print(
            f"          the emulator used {run.emulator_cpu_s:.1f} CPU-s, other processes on this "
            f"{os.cpu_count()}-core machine {run.others_cpu_s:.1f} CPU-s ({busy:.0%} of a core)"
            f"{': the figures may be disturbed' if busy > OTHERS_WARN else ''}"
        )
        for problem in run.problems:
            print(f"          PROBLEM: {problem}")
    faults = [p for run in (free, paid, memory) for p in run.problems]
    return 0 if all(checks) and not faults else 1


if __name__ == "__main__":
    sys.exit(main())
