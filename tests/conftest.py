"""Shared fixtures: a real Redis, a fresh data root, service processes that are always stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.helpers import ServiceProcess, redis_db_url, start_module

TEST_REDIS_DB = 9
# The play relay's live-view tap publishes to REDIS_URL (default: the shared localhost:6379); tests that
# watch it (tests/web) turn it on with their private Redis.
os.environ.setdefault("LIVE_ENABLED", "0")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: a private redis-server for this test run, else the machine's (REDIS_URL or localhost:6379).

    Private first: two test runs on one machine (a developer's and CI's) would otherwise empty each
    other's database mid-test, and a job queued by one would vanish under the other.
    """
    binary = shutil.which("redis-server")
    if not binary:
        base = os.environ.get("REDIS_URL", "redis://localhost:6379/0").rsplit("/", 1)[0]
        if not _answers(base):
            pytest.fail("tests need Redis: no redis-server binary is installed and no server answers at " + base)
        yield base
        return
    # On a Unix socket (TCP port 0 = off): no TCP port is chosen before redis-server binds it.
    socket_path = tmp_path_factory.mktemp("redis") / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket_path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{socket_path}"
    for _ in range(100):
        if _answers(url):
            break
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait()


@contextmanager
def fresh_redis_db(server_url: str, db: int) -> Iterator[str]:
    """Redis database `db` on `server_url`, emptied before and after use; yields its URL."""
    url = redis_db_url(server_url, db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """A Redis database reserved for tests, emptied before and after each test."""
    with fresh_redis_db(redis_server_url, TEST_REDIS_DB) as url:
        yield url


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "samples").mkdir(parents=True)
    (root / "models").mkdir()
    return root


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    """Collects started service processes and always stops them (SIGTERM, then SIGKILL)."""
    started: list[ServiceProcess] = []
    yield started
    for service in reversed(started):
        service.terminate()


@pytest.fixture
def start_service(services: list[ServiceProcess], tmp_path: Path):
    """start_service(module, env, grpc_address=..., ready=...) -> ServiceProcess, stopped at teardown."""

    def start(module: str, env: dict[str, str], **kwargs) -> ServiceProcess:
        log_path = tmp_path / f"{module}-{len(services)}.log"
        service = start_module(module, env, log_path, **kwargs)
        services.append(service)
        return service

    return start
