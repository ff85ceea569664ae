"""Search latency over 5,000 generated items, in process: p99 must stay under 5 ms.

Run: .venv/bin/python -m tests.bench.search
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from storage import content
from storage.db import connect
from storage.migrate import migrate
from storage.search import Searcher
from tests.bench.corpus import generate, queries

ITEMS = 5000
QUERIES = 2000
P99_LIMIT_MS = 5.0


async def measure(db_path: Path) -> dict[str, float]:
    db = await connect(db_path)
    try:
        await migrate(db)
        started = time.perf_counter()
        await content.import_items(db, generate(ITEMS))
        import_s = time.perf_counter() - started
        searcher = Searcher(db)
        for query in queries(50, seed=1):  # warm the caches the way a running bot has them
            await searcher.search(query, "ru")
        timings = []
        for query in queries(QUERIES):
            started = time.perf_counter()
            await searcher.search(query, "ru")
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await db.close()
    timings.sort()
    return {
        "import_s": import_s,
        "p50_ms": statistics.median(timings),
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "max_ms": timings[-1],
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(measure(Path(folder) / "bench.sqlite3"))
    print(
        f"search over {ITEMS} items, {QUERIES} queries: p50 {figures['p50_ms']:.2f} ms, "
        f"p99 {figures['p99_ms']:.2f} ms (limit {P99_LIMIT_MS} ms), max {figures['max_ms']:.2f} ms; "
        f"import {figures['import_s']:.1f} s"
    )
    return 0 if figures["p99_ms"] <= P99_LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
