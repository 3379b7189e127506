"""A small client for the trainer's REST API (TRAINER_URL, bearer token from TENSORKART_TOKEN).

Every failure becomes a CliError in the one error format: an unreachable trainer names
`tensorkart up`, a 422 lists the fields at fault (never the raw validation list).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import cli_settings

if TYPE_CHECKING:  # httpx is imported where used: a failing preflight should not pay for it
    import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
UrlOption = Annotated[
    str | None, typer.Option("--url", help="trainer URL [default: $TRAINER_URL or http://127.0.0.1:8000]")
]
# What to suggest when a field of a request is refused.
FIELD_FIXES = {
    "datasets": "see the names: tensorkart datasets list",
    "base_model": "see the versions: tensorkart models list",
}


class TrainerError(CliError):
    """The trainer answered with an error (or not at all)."""


def trainer_url(url: str | None = None) -> str:
    return (url or cli_settings().trainer_url).rstrip("/")


def client(url: str | None = None, timeout: float = 10.0) -> httpx.Client:
    import httpx

    token = cli_settings().token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=trainer_url(url), headers=headers, timeout=timeout)


def answers(url: str | None = None) -> bool:
    """True when a trainer answers /healthz at `url`."""
    import httpx

    try:
        with client(url, timeout=1.0) as http:
            return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def unreachable(url: str | None) -> TrainerError:
    return TrainerError(
        f"no trainer answers at {trainer_url(url)}",
        "start the stack: tensorkart up (or point --url / TRAINER_URL at a running trainer)",
    )


def require(url: str | None = None) -> None:
    """Fail at once (one line) when no trainer answers."""
    if not answers(url):
        raise unreachable(url)


def _describe(detail: Any) -> tuple[str, str]:
    """A readable message and a fix from the server's `detail` (a string or FastAPI's validation list)."""
    if isinstance(detail, list):
        parts, fix = [], ""
        for item in detail:
            if not isinstance(item, dict):
                parts.append(str(item))
                continue
            field = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            parts.append(f"{field}: {item.get('msg')}" if field else str(item.get("msg")))
            fix = fix or FIELD_FIXES.get(field.split(".")[0], "")
        return "; ".join(parts), fix
    return str(detail), ""


def check(response: httpx.Response, fix: str = "") -> Any:
    """The JSON body, or TrainerError carrying the server's message in one line (and `fix` unless a better one)."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text.strip() or response.reason_phrase}
    message, field_fix = _describe(body.get("detail") if isinstance(body, dict) else body)
    if response.status_code == 401:
        fix = "set TENSORKART_TOKEN to the stack's token"
    raise TrainerError(f"the trainer refused: {message}", field_fix or fix)


def call(url: str | None, method: str, path: str, fix: str = "", **kwargs: Any) -> Any:
    """One request; unreachable trainers and error answers (with `fix`) become TrainerError."""
    import httpx

    try:
        with client(url) as http:
            return check(http.request(method, path, **kwargs), fix)
    except httpx.TransportError:
        raise unreachable(url) from None


def events(http: httpx.Client, job_id: str, fix: str = "") -> Iterator[dict[str, Any]]:
    """The job's views as the trainer streams them (GET /v1/jobs/ID/events, server-sent events)."""
    import json

    import httpx
    from httpx_sse import connect_sse

    with connect_sse(http, "GET", f"/v1/jobs/{job_id}/events", timeout=httpx.Timeout(10.0, read=None)) as source:
        if not source.response.is_success:
            source.response.read()
            check(source.response, fix)
        for event in source.iter_sse():
            if event.data:
                yield json.loads(event.data)
