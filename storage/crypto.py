"""All key use in one place: HMAC lookup keys and AES-GCM sealing of chat ids."""

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
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.seal_key).encrypt(nonce, str(chat_id).encode("ascii"), SEAL_AAD)

    def unseal(self, blob: bytes) -> int:
        """Open a sealed chat id, or raise SealError."""
        try:
            plain = AESGCM(self.seal_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], SEAL_AAD)
        except (InvalidTag, ValueError) as exc:
            raise SealError("sealed value does not open under this key") from exc
        return int(plain.decode("ascii"))


def new_master_key() -> bytes:
    """32 random bytes for TROPA_SECRET_KEY."""
    return os.urandom(32)
