"""`tensorkart up`: the whole local stack as child processes; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import typer

from tensorkart_cli.supervisor import DEFAULT_PORTS, Supervisor, ensure_redis, free_port, stack_specs
from tensorkart_core.settings import DEFAULT_REDIS_URL


def up(
    data: Path = typer.Option(Path(os.environ.get("TENSORKART_DATA", "./data")), help="shared storage root"),
    random_ports: bool = typer.Option(False, "--random-ports", help="use free ports instead of the defaults"),
    ready_timeout: float = typer.Option(120.0, help="seconds to wait for every service to be healthy"),
) -> None:
    """Start recorder, inference, controller, trainer API and a worker; Ctrl-C stops them all."""
    supervisor = Supervisor(out=lambda line: print(line, flush=True))
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    ports = {k: free_port() for k in DEFAULT_PORTS} if random_ports else dict(DEFAULT_PORTS)
    status = 1
    try:
        redis_url = ensure_redis(os.environ.get("REDIS_URL", DEFAULT_REDIS_URL), supervisor)
        for spec in stack_specs(data, redis_url, ports):
            supervisor.start(spec)
        not_ready = supervisor.wait_ready(ready_timeout)
        if supervisor.dead() or not_ready:
            print(f"stack failed to start: not ready: {', '.join(not_ready) or 'a service exited'}", flush=True)
        else:
            print(f"TensorKart stack is up (data: {data}, redis: {redis_url})", flush=True)
            for child in supervisor.children:
                print(f"  {child.spec.name:<11} {child.spec.endpoint}", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            status = supervisor.run_until_stopped()
    finally:
        supervisor.stop_all()
        print("all services stopped", flush=True)
    raise typer.Exit(status)
