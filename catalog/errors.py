"""One base error for every rule the domain enforces; the API maps it to JSON once."""

from __future__ import annotations

from typing import Any


class CatalogError(Exception):
    """A refusal a client can act on: a stable machine code, a message and an HTTP status."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(CatalogError):
    status_code = 422
    code = "invalid_input"


class NotAuthenticated(CatalogError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(CatalogError):
    status_code = 403
    code = "permission_denied"


class NotFound(CatalogError):
    status_code = 404
    code = "not_found"


class Conflict(CatalogError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(CatalogError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMedia(CatalogError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimited(CatalogError):
    status_code = 429
    code = "rate_limited"


class TryAgain(CatalogError):
    """Nothing was done, through no fault of the request: sending it again may work."""

    status_code = 503
    code = "try_again"
