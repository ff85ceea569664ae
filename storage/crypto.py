"""All key use in one place: HMAC lookup keys and AES-GCM sealing of chat ids (alone, or with message ids)."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
SEAL_AAD = b"tropa:chat-id:v1"
DELETION_AAD = b"tropa:deletion:v1"
PAD_TO = 32  # sealed deletion lists are padded to a multiple of this, so their size hides how many ids they hold


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tropa/" + purpose).derive(master)


class SealError(Exception):
    """A sealed value did not open under this key."""


@dataclass(frozen=True)
class Keys:
    """Two keys derived from TROPA_SECRET_KEY: one for lookups, one for sealing."""

    lookup_key: bytes
    seal_key: bytes

    @classmethod
    def from_master(cls, master: bytes) -> Keys:
        """Derive both keys with HKDF-SHA256 so neither reveals the other."""
        if len(master) != 32:
            raise ValueError("the master key must be 32 bytes")
        return cls(_derive(master, b"lookup/v1"), _derive(master, b"seal/v1"))

    def lookup(self, chat_id: int) -> bytes:
        """HMAC-SHA256 of the chat id: a stable key that cannot be turned back into the id."""
        return hmac.new(self.lookup_key, str(chat_id).encode("ascii"), hashlib.sha256).digest()

    def seal(self, chat_id: int) -> bytes:
        """AES-GCM with a random nonce: nonce || ciphertext+tag."""
        return self._seal(str(chat_id).encode("ascii"), SEAL_AAD)

    def unseal(self, blob: bytes) -> int:
        """Open a sealed chat id, or raise SealError."""
        return int(self._open(blob, SEAL_AAD).decode("ascii"))

    def seal_deletion(self, chat_id: int, message_ids: list[int]) -> bytes:
        """Seal a chat id with message ids to delete later: both hidden, the size rounded up to PAD_TO."""
        plain = f"{chat_id}:{','.join(str(m) for m in message_ids)}".encode("ascii")
        return self._seal(plain.ljust(-(-len(plain) // PAD_TO) * PAD_TO), DELETION_AAD)

    def unseal_deletion(self, blob: bytes) -> tuple[int, list[int]]:
        """Open what seal_deletion sealed, or raise SealError."""
        plain = self._open(blob, DELETION_AAD)
        try:
            chat, _, ids = plain.decode("ascii").strip().partition(":")
            return int(chat), [int(m) for m in ids.split(",") if m]
        except ValueError as exc:
            raise SealError("sealed deletion is malformed") from exc

    def _seal(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.seal_key).encrypt(nonce, plain, aad)

    def _open(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(self.seal_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError) as exc:
            raise SealError("sealed value does not open under this key") from exc


def new_master_key() -> bytes:
    """32 random bytes for TROPA_SECRET_KEY."""
    return os.urandom(32)
