"""GET /: the dashboard, a static page (no CDN) that reads the /v1 API; its CSS and JS under /static/."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(tags=["dashboard"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    page = resources.files("tensorkart_trainer.api").joinpath("dashboard.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


def mount_static(app: FastAPI) -> None:
    """/static/: the dashboard's CSS and JS (api/static/, shipped as package data)."""
    folder = resources.files("tensorkart_trainer.api").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(folder)), name="static")
