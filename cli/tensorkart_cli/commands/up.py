"""`tensorkart up`: the whole local stack as child processes; Ctrl-C stops everything.

Ports: the defaults of CONTRACT.md, each overridden by its variable (RECORDER_PORT,
INFERENCE_PORT, CONTROLLER_PORT, CONTROLLER_HTTP_PORT, TRAINER_PORT, *_METRICS_PORT; 0 = any), or
with --random-ports each service binds port 0 and reports the port it got (no race for a port
chosen before the service binds it). A port already in use is named before anything starts. Once the
stack is up it prints the `export ...` line other commands need to find it (and writes it to
--env-file PATH, for `source PATH` in another shell).
"""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from tensorkart_cli.errors import CliError
from tensorkart_cli.settings import StackPorts, cli_settings
from tensorkart_cli.supervisor import (
    DEFAULT_PORTS,
    Supervisor,
    bound_ports,
    ensure_redis,
    port_in_use,
    port_variable,
    stack_specs,
)

HOST = "127.0.0.1"


def choose_ports(random_ports: bool) -> dict[str, int]:
    """All 0 (each service picks), or the defaults overridden by the port variables; fails naming a taken one."""
    if random_ports:
        return dict.fromkeys(DEFAULT_PORTS, 0)
    configured = cli_settings(StackPorts)
    ports = {key: getattr(configured, f"{key}_port") for key in DEFAULT_PORTS}
    for key, port in ports.items():
        if port and port_in_use(port):
            variable = port_variable(key)
            raise CliError(
                f"port {port} ({key.replace('_', ' ')}) is already in use",
                f"stop what holds it (e.g. another tensorkart up), set {variable}=ANOTHER_PORT, or use --random-ports",
            )
    return ports


def export_line(data: Path, redis_url: str, ports: dict[str, int]) -> str:
    """The variables other tensorkart commands read to reach this stack, as one shell line."""
    variables = {
        "TENSORKART_DATA": str(data),
        "REDIS_URL": redis_url,
        "RECORDER_ADDR": f"{HOST}:{ports['recorder']}",
        "INFERENCE_ADDR": f"{HOST}:{ports['inference']}",
        "CONTROLLER_ADDR": f"{HOST}:{ports['controller']}",
        "CONTROLLER_INPUT_BOT_URL": f"http://{HOST}:{ports['controller_http']}",
        "TRAINER_URL": f"http://{HOST}:{ports['trainer']}",
    }
    return "export " + " ".join(f"{name}={value}" for name, value in variables.items())


def up(
    data: Path | None = typer.Option(None, help="shared storage root [default: TENSORKART_DATA or ./data]"),
    random_ports: bool = typer.Option(False, "--random-ports", help="use free ports instead of the defaults"),
    env_file: Path | None = typer.Option(
        None, "--env-file", help="also write the export line here (then: source PATH in another shell)"
    ),
    ready_timeout: float = typer.Option(120.0, help="seconds to wait for every service to be healthy"),
) -> None:
    """Start recorder, inference, controller, trainer API and a worker; Ctrl-C stops them all."""
    if ready_timeout <= 0:
        raise CliError(f"--ready-timeout must be positive, got {ready_timeout:g}", "e.g. --ready-timeout 120", 2)
    ports = choose_ports(random_ports)
    supervisor = Supervisor(out=lambda line: print(line, flush=True))
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    data = (data or cli_settings().data_root).resolve()
    data.mkdir(parents=True, exist_ok=True)
    status = 1
    failure: CliError | None = None
    try:
        redis_url = ensure_redis(cli_settings().redis_url, supervisor)
        for spec in stack_specs(data, redis_url, ports):
            supervisor.start(spec)
        not_ready = supervisor.wait_stack_ready(ready_timeout)
        dead = [child.name for child in supervisor.dead()]
        if dead or not_ready:
            name = (dead or not_ready)[0]
            state = "exited" if dead else f"was not ready after {ready_timeout:.0f}s"
            failure = CliError(
                f"the stack did not start: {name} {state}: {supervisor.last_error(name)}",
                "fix that and run tensorkart up again (its full log is above)",
            )
        else:
            exports = export_line(data, redis_url, bound_ports(supervisor))
            print(f"TensorKart stack is up (data: {data}, redis: {redis_url})", flush=True)
            for child in supervisor.children:
                print(f"  {child.name:<11} {child.spec.endpoint(child)}", flush=True)
            print("Other shells reach this stack with:", flush=True)
            print(exports, flush=True)
            if env_file is not None:
                env_file.write_text(exports + "\n")
                print(f"(also written to {env_file}: source {env_file})", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            status = supervisor.run_until_stopped()
    finally:
        supervisor.stop_all()
        print("all services stopped", flush=True)
    if failure is not None:
        raise failure
    raise typer.Exit(status)
