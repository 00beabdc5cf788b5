"""Every error leaves as JSON: {"code": stable machine code, "message": for people, ...}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.errors import CatalogError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "price") -> "price"; query and path parameters keep their own names too.
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(part) for part in location)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CatalogError)
    async def _catalog_error(_request: Request, error: CatalogError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message, **error.details), status_code=error.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field_name(tuple(item["loc"])), "message": item["msg"], "type": item["type"]}
            for item in error.errors()
        ]
        names = ", ".join(dict.fromkeys(field["field"] for field in fields))
        return JSONResponse(
            error_body("validation_error", f"invalid input: {names}", fields=fields),
            status_code=422,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _error: StaleDataError) -> JSONResponse:
        return JSONResponse(
            error_body("concurrent_change", "someone else changed this just now; try again"),
            status_code=409,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=error)
        return JSONResponse(
            error_body("internal_error", "something went wrong on our side"), status_code=500
        )
