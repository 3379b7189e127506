"""A small client for the trainer's REST API (TRAINER_URL, bearer token from TENSORKART_TOKEN)."""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


class TrainerError(RuntimeError):
    """The trainer answered with an error; the message carries its detail."""


def trainer_url(url: str | None = None) -> str:
    return (url or os.environ.get("TRAINER_URL") or DEFAULT_URL).rstrip("/")


def client(url: str | None = None, timeout: float = 10.0) -> httpx.Client:
    token = os.environ.get("TENSORKART_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=trainer_url(url), headers=headers, timeout=timeout)


def answers(url: str | None = None) -> bool:
    """True when a trainer answers /healthz at `url`."""
    try:
        with client(url, timeout=1.0) as http:
            return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def check(response: httpx.Response) -> Any:
    """The JSON body, or TrainerError with the server's message."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
        detail = body.get("message") or body.get("detail")
    except ValueError:
        detail = response.text
    raise TrainerError(f"trainer answered {response.status_code}: {detail}")
