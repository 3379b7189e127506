"""Trainer test fixtures: a private Redis db and queue, the real API and worker as processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import fresh_redis_db
from tests.helpers import NOBODY, ServiceProcess

TRAINER_REDIS_DB = 12


@pytest.fixture
def trainer_redis_url(redis_server_url: str) -> Iterator[str]:
    """A Redis db of the trainer tests' own (others flush db 9 concurrently), emptied around each test."""
    with fresh_redis_db(redis_server_url, TRAINER_REDIS_DB) as url:
        yield url


@pytest.fixture
def trainer_env(data_root: Path, trainer_redis_url: str) -> dict[str, str]:
    return {
        "TENSORKART_DATA": str(data_root),
        "REDIS_URL": trainer_redis_url,
        "TRAINER_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "TRAINER_HOST": "127.0.0.1",
        "TRAINER_PORT": "0",
        "TRAINER_URL": f"http://{NOBODY}",  # start_api puts the API's URL here (the port it bound)
        "TRAINER_HEARTBEAT_INTERVAL_S": "1",
        "TRAINER_HEARTBEAT_TIMEOUT_S": "6",
        "TRAINER_SWEEP_INTERVAL_S": "1",
        "TRAINER_EVAL_MAX_SECONDS_PER_LAP": "2",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TENSORKART_TOKEN": "",
    }


def _healthy(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    return check


@pytest.fixture
def start_api(start_service, trainer_env: dict[str, str]) -> Callable[..., ServiceProcess]:
    def start(**extra: str) -> ServiceProcess:
        env = {**trainer_env, **extra}
        api = start_service("tensorkart_trainer", env, ports=("http",), ready=lambda: True)
        url = api.url("http")
        deadline = time.monotonic() + 60
        while not _healthy(url)():
            assert api.alive() and time.monotonic() < deadline, f"the trainer API did not answer:\n{api.log()}"
            time.sleep(0.1)
        trainer_env["TRAINER_URL"] = url
        return api

    return start


@pytest.fixture
def start_worker(start_service, trainer_env: dict[str, str], trainer_redis_url: str) -> Callable[..., ServiceProcess]:
    def start(**extra: str) -> ServiceProcess:
        env = {**trainer_env, **extra}
        client = redis.Redis.from_url(trainer_redis_url)

        def registered() -> bool:
            return any(env["TRAINER_QUEUE"] in (w.decode() if isinstance(w, bytes) else w) for w in _workers(client))

        return start_service("tensorkart_trainer.worker", env, ready=registered)

    return start


def _workers(client: redis.Redis) -> list:
    from rq import Worker

    return [",".join(w.queue_names()) for w in Worker.all(connection=client)]


def wait_for(predicate: Callable[[], object], timeout: float = 120.0, interval: float = 0.2, what: str = "") -> object:
    """Poll until `predicate()` is truthy; fail the test with `what` after `timeout` (a safety net, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what or predicate}")


@pytest.fixture
def app_client(trainer_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """The trainer app in-process (real Redis, real storage), over httpx's ASGI transport via TestClient."""
    from fastapi.testclient import TestClient

    from tensorkart_trainer.api.app import create_app
    from tensorkart_trainer.api.deps import get_settings

    for key, value in trainer_env.items():
        monkeypatch.setenv(key, value)

    def make(token: str = "") -> TestClient:
        monkeypatch.setenv("TENSORKART_TOKEN", token)
        get_settings.cache_clear()
        return TestClient(create_app(), raise_server_exceptions=False)

    yield make
    get_settings.cache_clear()
