"""storage.crypto: derived keys, HMAC lookups and AES-GCM sealing of chat ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import NONCE_BYTES, Keys, SealError, new_master_key

MASTER = bytes(range(32))
CHAT_IDS = [1, 123456789, 5_000_000_000, -1001234567890, 2**52]


@pytest.fixture
def keys() -> Keys:
    return Keys.from_master(MASTER)


def test_derived_keys_differ_from_each_other_and_from_the_master(keys: Keys) -> None:
    assert len(keys.lookup_key) == len(keys.seal_key) == 32
    assert keys.lookup_key != keys.seal_key
    assert MASTER not in (keys.lookup_key, keys.seal_key)


def test_derivation_is_deterministic_and_depends_on_the_master() -> None:
    assert Keys.from_master(MASTER) == Keys.from_master(MASTER)
    other = Keys.from_master(bytes(32))
    assert other.lookup_key != Keys.from_master(MASTER).lookup_key
    assert other.seal_key != Keys.from_master(MASTER).seal_key


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_master_key_must_be_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Keys.from_master(b"k" * length)


def test_new_master_key_is_32_random_bytes() -> None:
    first, second = new_master_key(), new_master_key()
    assert len(first) == len(second) == 32
    assert first != second


@pytest.mark.parametrize("chat_id", CHAT_IDS)
def test_lookup_is_stable_and_32_bytes(keys: Keys, chat_id: int) -> None:
    assert keys.lookup(chat_id) == keys.lookup(chat_id) == Keys.from_master(MASTER).lookup(chat_id)
    assert len(keys.lookup(chat_id)) == 32


def test_lookup_differs_between_ids_and_between_keys(keys: Keys) -> None:
    assert len({keys.lookup(chat_id) for chat_id in CHAT_IDS}) == len(CHAT_IDS)
    assert keys.lookup(42) != Keys.from_master(bytes(32)).lookup(42)


def test_lookup_key_is_not_the_seal_key(keys: Keys) -> None:
    # A lookup made with the seal key would be a different value: the two uses cannot be confused.
    swapped = Keys(lookup_key=keys.seal_key, seal_key=keys.lookup_key)
    assert swapped.lookup(42) != keys.lookup(42)


@pytest.mark.parametrize("chat_id", CHAT_IDS)
def test_seal_round_trip(keys: Keys, chat_id: int) -> None:
    assert keys.unseal(keys.seal(chat_id)) == chat_id


def test_seal_uses_a_random_nonce(keys: Keys) -> None:
    blobs = [keys.seal(123456789) for _ in range(20)]
    assert len(set(blobs)) == len(blobs)
    assert len({blob[:NONCE_BYTES] for blob in blobs}) == len(blobs)
    assert all(keys.unseal(blob) == 123456789 for blob in blobs)


def test_unseal_with_the_wrong_key_raises_seal_error(keys: Keys) -> None:
    blob = keys.seal(123456789)
    with pytest.raises(SealError):
        Keys.from_master(bytes(32)).unseal(blob)


def test_unseal_with_the_lookup_key_raises_seal_error(keys: Keys) -> None:
    with pytest.raises(SealError):
        Keys(lookup_key=keys.seal_key, seal_key=keys.lookup_key).unseal(keys.seal(7))


@pytest.mark.parametrize("position", [0, NONCE_BYTES, -1])
def test_tampered_blob_raises_seal_error(keys: Keys, position: int) -> None:
    blob = bytearray(keys.seal(123456789))
    blob[position] ^= 0x01
    with pytest.raises(SealError):
        keys.unseal(bytes(blob))


@pytest.mark.parametrize("blob", [b"", b"short", bytes(NONCE_BYTES), bytes(NONCE_BYTES + 16)])
def test_garbage_raises_seal_error(keys: Keys, blob: bytes) -> None:
    with pytest.raises(SealError):
        keys.unseal(blob)


def forms_of(chat_id: int) -> list[bytes]:
    """Ways an id could show up in stored bytes."""
    forms = [str(chat_id).encode("ascii"), str(abs(chat_id)).encode("ascii")]
    forms += [chat_id.to_bytes(8, order, signed=True) for order in ("little", "big")]
    return forms


@pytest.mark.parametrize("chat_id", [c for c in CHAT_IDS if abs(c) >= 100_000])  # a one-digit id matches by chance
def test_sealed_and_lookup_bytes_do_not_contain_the_id(keys: Keys, chat_id: int) -> None:
    for _ in range(50):
        stored = keys.seal(chat_id) + keys.lookup(chat_id)
        for form in forms_of(chat_id):
            assert form not in stored


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_any_id_round_trips(chat_id: int) -> None:
    keys = Keys.from_master(MASTER)
    assert keys.unseal(keys.seal(chat_id)) == chat_id


@given(
    st.integers(min_value=-(2**62), max_value=2**62),
    st.lists(st.integers(min_value=1, max_value=2**31 - 1), min_size=1, max_size=100),
)
def test_a_deletion_round_trips(chat_id: int, message_ids: list[int]) -> None:
    keys = Keys.from_master(MASTER)
    assert keys.unseal_deletion(keys.seal_deletion(chat_id, message_ids)) == (chat_id, message_ids)


def test_a_deletion_and_a_chat_id_cannot_be_swapped(keys: Keys) -> None:
    with pytest.raises(SealError):
        keys.unseal(keys.seal_deletion(123456789, [1]))
    with pytest.raises(SealError):
        keys.unseal_deletion(keys.seal(123456789))
    with pytest.raises(SealError):
        Keys.from_master(bytes(32)).unseal_deletion(keys.seal_deletion(123456789, [1]))


def test_a_sealed_deletion_hides_its_size_to_a_step_and_is_fresh_each_time(keys: Keys) -> None:
    one, three = keys.seal_deletion(7391046258, [5]), keys.seal_deletion(7391046258, [5, 6, 7])
    assert len(one) == len(three)
    assert keys.seal_deletion(7391046258, [5]) != one
    for form in forms_of(7391046258):
        assert form not in one
