"""Secrets the embedded default makes for itself once and keeps under its home folder;
with services they come from the environment instead."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet


def local_secret(path: Path) -> bytes:
    """The secret in `path`, made there (readable by this user only) if it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "wb") as secret_file:
                secret_file.write(Fernet.generate_key())
    return path.read_bytes().strip()
