"""The web client: the H5 app for shoppers and sellers at `/` and the operators' console at
`/admin`, plain ES modules and CSS served by this process (no front-end server, no build
step). Pages talk to the JSON API like any other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_ROOT = Path(__file__).parent / "static"

# The shells change with every release; the browser revalidates them (ETag) on each load.
_REVALIDATE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def h5_app() -> FileResponse:
    """The H5 app (shoppers and sellers), routed in the browser by the URL's fragment."""
    return FileResponse(STATIC_ROOT / "h5" / "index.html", headers=_REVALIDATE)


@router.get("/admin")
@router.get("/admin/")
def admin_console() -> FileResponse:
    """The admin console (reviewers, operators, admins)."""
    return FileResponse(STATIC_ROOT / "admin" / "index.html", headers=_REVALIDATE)


class _RevalidatedStaticFiles(StaticFiles):
    """Static files the browser keeps but revalidates, so a release is seen at once while
    an unchanged module costs a 304."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def install_web_client(app: FastAPI) -> None:
    """Serve the two shells and their modules (`/static/...`)."""
    app.include_router(router)
    app.mount("/static", _RevalidatedStaticFiles(directory=STATIC_ROOT), name="static")
