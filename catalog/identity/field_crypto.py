"""Encryption of sensitive fields at rest (ID numbers now, payout accounts later)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from catalog.local_secrets import local_secret
from catalog.settings import get_settings


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    settings = get_settings()
    key = settings.field_encryption_key.encode() or local_secret(settings.home / "field.key")
    return Fernet(key)


def encrypt_field(plaintext: str) -> bytes:
    return _fernet().encrypt(plaintext.encode())


def decrypt_field(ciphertext: bytes) -> str:
    try:
        return _fernet().decrypt(ciphertext).decode()
    except InvalidToken as error:
        raise RuntimeError("a field was encrypted with another key") from error
