"""Container health probe: `python -m tensorkart_core.healthcheck ADDR` exits 0 only when the gRPC
server at ADDR reports SERVING (grpc.health.v1), 1 otherwise.

Used by the images' HEALTHCHECK and by docker compose / Kubernetes exec probes. An empty
`--tls-ca` means plaintext, so one probe line works whether or not TLS is configured.
`tensorkart health ADDR` is the same command.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tensorkart_core.cli import command_app
from tensorkart_core.health import check

app = command_app(__doc__.splitlines()[0], group=False)


@app.command()
def healthcheck(
    address: Annotated[str, typer.Argument(help="host:port of the gRPC server")],
    service: Annotated[str, typer.Option(help="service name to ask about ('' = the whole server)")] = "",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 2.0,
    tls_ca: Annotated[str, typer.Option("--tls-ca", help="PEM CA to verify a TLS server with ('' = plaintext)")] = "",
) -> None:
    """Exit 0 only when the gRPC server at ADDRESS reports SERVING."""
    # make_channel takes the CA from the environment; this only affects the probe process.
    if tls_ca:
        os.environ["TENSORKART_TLS_CA"] = tls_ca
    else:
        os.environ.pop("TENSORKART_TLS_CA", None)
    status = check(address, service, timeout=timeout)
    typer.echo(f"{address}: {status}")
    raise typer.Exit(0 if status == "SERVING" else 1)


if __name__ == "__main__":
    app(prog_name="python -m tensorkart_core.healthcheck")
