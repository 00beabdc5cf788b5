"""Photo files on disk under unguessable names, written atomically, never outside the root."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Final

_FOLDER: Final = re.compile(r"[A-Za-z0-9_-]+")
_EXTENSION: Final = re.compile(r"[a-z0-9]{1,8}")
# Readable by a separate static-file server; mkstemp alone would leave 0600.
_FILE_MODE: Final = 0o644


class MediaStore:
    """Files under `root/<folder>/<shard>/<random name>.<ext>`, addressed by that relative path."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        return self._root

    def save(self, data: bytes, *, extension: str, folder: str) -> str:
        """Write `data` under a fresh random name and return its path relative to the root."""
        if not _FOLDER.fullmatch(folder):
            raise ValueError(f"folder must be letters, digits, '-' or '_': {folder!r}")
        if not _EXTENSION.fullmatch(extension):
            raise ValueError(f"extension must be lowercase letters or digits: {extension!r}")
        name = secrets.token_hex(16)
        # A shard level keeps any one directory from growing to millions of entries.
        directory = self._root / folder / name[:2]
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / f"{name}.{extension}"
        # Readers see either no file or the whole file, never a half-written one.
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
                os.fchmod(handle.fileno(), _FILE_MODE)
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return final.relative_to(self._root).as_posix()

    def delete(self, relative_path: str) -> None:
        """Remove the file if it is there; a path outside the root is refused."""
        self.absolute(relative_path).unlink(missing_ok=True)

    def delete_all(self, *relative_paths: str) -> None:
        for relative_path in relative_paths:
            self.delete(relative_path)

    def absolute(self, relative_path: str) -> Path:
        """The file's absolute path; `..`, absolute paths and symlinks out of root are refused."""
        if not relative_path or "\x00" in relative_path or "\\" in relative_path:
            raise ValueError(f"not a media path: {relative_path!r}")
        candidate = (self._root / relative_path).resolve()
        if candidate == self._root or not candidate.is_relative_to(self._root):
            raise ValueError(f"media path escapes the media root: {relative_path!r}")
        return candidate
