"""The browser page of the live tape and its static files (the `web` package)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(str(files("web")))

router = APIRouter()
router.mount("/web", StaticFiles(directory=WEB_DIR), name="web")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html")
