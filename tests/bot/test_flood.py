"""bot.flood: token buckets by HMAC, one notice per flood, full buckets evicted, memory bounded."""

from __future__ import annotations

import pytest

from bot.flood import FloodGate, Verdict
from storage.crypto import Keys

KEYS = Keys.from_master(bytes(range(32)))
ANNA, BORIS = KEYS.lookup(7391046258), KEYS.lookup(8012345671)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def takes(gate: FloodGate, key: bytes, n: int) -> list[Verdict]:
    return [gate.take(key) for _ in range(n)]


def test_a_burst_passes_then_one_notice_then_silence(clock: Clock) -> None:
    gate = FloodGate(burst=5, rate=1.0, clock=clock)
    assert takes(gate, ANNA, 9) == [Verdict.ALLOW] * 5 + [Verdict.NOTICE] + [Verdict.DROP] * 3


def test_tokens_come_back_at_the_rate(clock: Clock) -> None:
    gate = FloodGate(burst=3, rate=2.0, clock=clock)
    takes(gate, ANNA, 4)
    clock.now += 0.5  # one token back
    assert takes(gate, ANNA, 2) == [Verdict.ALLOW, Verdict.DROP]
    clock.now += 1.0  # two more
    assert takes(gate, ANNA, 3) == [Verdict.ALLOW, Verdict.ALLOW, Verdict.DROP]


def test_a_steady_flood_is_told_once_not_at_every_refill(clock: Clock) -> None:
    gate = FloodGate(burst=2, rate=1.0, clock=clock)
    verdicts = []
    for _ in range(40):  # four updates a second, forever over the limit
        verdicts.append(gate.take(ANNA))
        clock.now += 0.25
    assert verdicts.count(Verdict.NOTICE) == 1
    assert verdicts.count(Verdict.ALLOW) == 2 + 9  # the burst, then about one a second


def test_after_a_pause_long_enough_to_refill_a_new_flood_earns_a_new_notice(clock: Clock) -> None:
    gate = FloodGate(burst=2, rate=1.0, clock=clock)
    assert takes(gate, ANNA, 3)[-1] is Verdict.NOTICE
    clock.now += 2.0
    assert takes(gate, ANNA, 3) == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTICE]


def test_people_are_counted_apart(clock: Clock) -> None:
    gate = FloodGate(burst=1, rate=0.1, clock=clock)
    assert takes(gate, ANNA, 2) == [Verdict.ALLOW, Verdict.NOTICE]
    assert takes(gate, BORIS, 1) == [Verdict.ALLOW]


def test_an_update_with_nowhere_to_answer_keeps_the_notice_for_later(clock: Clock) -> None:
    gate = FloodGate(burst=1, rate=0.1, clock=clock)
    gate.take(ANNA)
    assert gate.take(ANNA, can_notice=False) is Verdict.DROP
    assert gate.take(ANNA) is Verdict.NOTICE


def test_full_buckets_are_evicted(clock: Clock) -> None:
    gate = FloodGate(burst=4, rate=1.0, clock=clock)
    gate.take(ANNA)
    takes(gate, BORIS, 4)
    clock.now += 1.5
    gate.sweep(clock.now)
    assert len(gate) == 1  # Anna's bucket is full again, Boris's is not
    clock.now += gate.SWEEP_EVERY
    gate.take(BORIS)  # a take after SWEEP_EVERY sweeps on its own
    assert len(gate) == 1


def test_the_dict_never_grows_past_its_limit(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FloodGate, "LIMIT", 50)
    gate = FloodGate(burst=2, rate=0.001, clock=clock)
    for n in range(500):
        takes(gate, KEYS.lookup(n), 2)  # all empty: nothing can be swept, the least recent go
    assert len(gate) == 50
    assert gate.take(KEYS.lookup(499)) is Verdict.NOTICE  # the newest are the ones kept


def test_keys_are_the_lookup_bytes_and_nothing_else(clock: Clock) -> None:
    gate = FloodGate(burst=2, rate=1.0, clock=clock)
    gate.take(ANNA)
    assert list(gate._buckets) == [ANNA]
    assert len(ANNA) == 32
