"""Reading an uploaded file without reading more than its limit."""

from __future__ import annotations

from fastapi import Request, UploadFile

from catalog.errors import PayloadTooLarge

# Multipart framing around a file: a request this much over the limit is refused unread.
MULTIPART_SLACK = 64 * 1024


def read_upload(request: Request, file: UploadFile, *, limit: int, what: str) -> bytes:
    """The file's bytes, at most `limit` + 1 of them (the checker then refuses the
    excess); a request whose declared size is already too large is refused unread."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise PayloadTooLarge(f"a {what} may be at most {limit} bytes", code=f"{what}_too_large")
    return file.file.read(limit + 1)
