"""The ports a service actually bound, reported to whoever started it.

A service asked to listen on port 0 lets the kernel pick a free port: no other process can take
it between the choice and the bind (the race a "find a free port, then start the server on it"
helper has). The starter then needs to learn the port: each service writes what it bound to the
JSON file named by TENSORKART_PORTS_FILE (when set), one key per listener, e.g.
`{"grpc": 41234, "metrics": 40111, "http": 39877}`; the file is replaced atomically on every
report, so a reader sees either the previous or the new complete object.

Keys: `grpc` (the gRPC server), `metrics` (Prometheus /metrics), `http` (the controller's
input-bot HTTP, the trainer's REST API), `feed` (the practice track's frame feed).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

PORTS_FILE_ENV = "TENSORKART_PORTS_FILE"
_lock = threading.Lock()


def read_ports(path: str | os.PathLike[str]) -> dict[str, int]:
    """The ports reported in `path` so far ({} when none yet)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): int(value) for key, value in data.items() if isinstance(value, int)}


def report_ports(**ports: int) -> None:
    """Add `ports` (name=port) to the TENSORKART_PORTS_FILE of this process; no-op when unset."""
    target = os.environ.get(PORTS_FILE_ENV)
    if not target:
        return
    path = Path(target)
    with _lock:
        merged = {**read_ports(path), **{key: int(value) for key, value in ports.items()}}
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(merged, sort_keys=True))
        os.replace(temporary, path)
