"""Encryption of sensitive fields at rest (ID numbers now, payout accounts later)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from catalog.settings import get_settings


def _key_from_file(path: Path) -> bytes:
    # The embedded default makes its own key once; services mode sets FIELD_ENCRYPTION_KEY.
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as key_file:
            key_file.write(Fernet.generate_key())
    return path.read_bytes().strip()


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    settings = get_settings()
    key = settings.field_encryption_key.encode() or _key_from_file(settings.home / "field.key")
    return Fernet(key)


def encrypt_field(plaintext: str) -> bytes:
    return _fernet().encrypt(plaintext.encode())


def decrypt_field(ciphertext: bytes) -> str:
    try:
        return _fernet().decrypt(ciphertext).decode()
    except InvalidToken as error:
        raise RuntimeError("a field was encrypted with another key") from error
