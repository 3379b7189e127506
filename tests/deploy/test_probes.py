"""The containers' health probes, run as the images run them: `python -m tensorkart_core.healthcheck`
against a real gRPC server (plaintext and TLS), and the training worker's probe against real Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker

from tensorkart_core.grpc_server import start_server
from tensorkart_core.settings import ServiceSettings
from tests.helpers import NOBODY, REPO, redis_db_url

WORKER_PROBE = REPO / "deploy" / "docker" / "worker_healthcheck.py"


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tensorkart_core.healthcheck", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def make_certs(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, made with openssl like docs/deploy.md does."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed to make the TLS test certificates")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=test CA",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=tk")
    (directory / "server.ext").write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
        "-extfile", "server.ext", "-out", "server.crt",
    )  # fmt: skip
    return directory / "ca.crt", directory / "server.crt", directory / "server.key"


def test_grpc_probe_passes_on_a_serving_server_and_fails_otherwise() -> None:
    # A token-protected server: orchestrators' probes carry no token, and health stays open to them.
    running = start_server(ServiceSettings(host="127.0.0.1", port=0, metrics_port=0, token="s3cret"), [])
    port = running.port
    try:
        result = probe(f"127.0.0.1:{port}", env={"TENSORKART_TOKEN": ""})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SERVING" in result.stdout
        # A server going down says NOT_SERVING first (graceful shutdown), then nothing answers.
        running.health.enter_graceful_shutdown()
        result = probe(f"127.0.0.1:{port}")
        assert result.returncode == 1 and "NOT_SERVING" in result.stdout
    finally:
        running.stop(grace=0)
    result = probe(f"127.0.0.1:{port}", "--timeout", "0.5")
    assert result.returncode == 1 and "UNREACHABLE" in result.stdout


def test_grpc_probe_over_tls_verifies_with_the_ca(tmp_path: Path) -> None:
    ca, cert, key = make_certs(tmp_path)
    settings = ServiceSettings(host="127.0.0.1", port=0, metrics_port=0, tls_cert=cert, tls_key=key)
    running = start_server(settings, [])
    port = running.port
    try:
        assert probe(f"127.0.0.1:{port}", "--tls-ca", str(ca)).returncode == 0
        # An empty --tls-ca (TLS not configured) means plaintext, which a TLS server refuses,
        # even when the environment names a CA: the flag decides, as in the images' HEALTHCHECK.
        plaintext = probe(f"127.0.0.1:{port}", "--tls-ca", "", "--timeout", "1", env={"TENSORKART_TLS_CA": str(ca)})
        assert plaintext.returncode == 1 and "UNREACHABLE" in plaintext.stdout
    finally:
        running.stop(grace=0)


def test_worker_probe_follows_the_worker_registration(redis_server_url: str) -> None:
    # A database of its own and a unique queue: the shared test database is flushed by other tests.
    redis_url = redis_db_url(redis_server_url, 12)
    queue = f"probe-test-{uuid.uuid4().hex}"
    env = {**os.environ, "REDIS_URL": redis_url, "TRAINER_QUEUE": queue}
    connection = redis.Redis.from_url(redis_url)

    def run_probe() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(WORKER_PROBE)], capture_output=True, text=True, env=env, timeout=30)

    assert run_probe().returncode == 1, "no worker registered yet"
    worker = Worker([Queue(queue, connection=connection)], connection=connection)
    worker.register_birth()
    try:
        result = run_probe()
        assert result.returncode == 0, result.stdout
        assert "1 worker(s)" in result.stdout
    finally:
        worker.register_death()
    assert run_probe().returncode == 1, "a stopped worker is no longer healthy"
    unreachable = subprocess.run(
        [sys.executable, str(WORKER_PROBE)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**env, "REDIS_URL": f"redis://{NOBODY}/0"},
    )
    assert unreachable.returncode == 1 and "unreachable" in unreachable.stdout
