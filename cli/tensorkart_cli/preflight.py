"""Checks every command makes before it spends the user's time; each fails with one CliError line.

Cheap and local first (option values, the track file, a display), then one short call per
service the command needs (health, the recorder's answer for a dataset name, the inference
server's active model), each bounded to about a second.
"""

from __future__ import annotations

from pathlib import Path

from tensorkart_cli.errors import CliError

STACK_FIX = "start the stack: tensorkart up (or point {variable} at a running {service})"


def positive(value: float | None, option: str, example: str) -> None:
    """A duration / count given by the user must be > 0."""
    if value is not None and value <= 0:
        raise CliError(f"{option} must be positive, got {value:g}", f"e.g. {option} {example}", status=2)


def track(name_or_file: str) -> None:
    """The practice track exists and is valid (a built-in name or a track .json file)."""
    try:
        from tensorkart_simulator.track import TrackError, load_track
    except ImportError:
        raise CliError("the practice track needs the tensorkart-simulator package", "run: make setup") from None
    try:
        load_track(name_or_file)
    except TrackError as error:
        raise CliError(str(error), "track files are described in docs/simulator.md", status=2) from None


def display(purpose: str) -> None:
    """An X display this process can open (for a window or screen capture)."""
    from tensorkart_cli.settings import cli_settings

    name = cli_settings().display
    if not name:
        raise CliError(f"{purpose} needs a display and DISPLAY is not set", _display_fix(purpose), status=2)
    number = name.rpartition(":")[2].split(".")[0]
    local = name.startswith(":") or name.startswith("unix:")
    if local and number.isdigit() and not Path(f"/tmp/.X11-unix/X{number}").exists():
        raise CliError(f"{purpose} needs a display and no X server answers on DISPLAY={name}", _display_fix(purpose))


def _display_fix(purpose: str) -> str:
    if purpose.startswith("the game window"):
        return "add --headless, or run it in a desktop session (or under xvfb-run)"
    return "run it in the desktop session that shows the game (or set DISPLAY, e.g. DISPLAY=:0)"


def grpc_service(address: str, service: str, variable: str) -> str:
    """A gRPC server answers at `address` within a second; returns its health status (e.g. SERVING)."""
    from tensorkart_core.health import check

    status = check(address, timeout=1.0)
    if status == "UNREACHABLE":
        raise CliError(f"no {service} answers at {address}", STACK_FIX.format(variable=variable, service=service))
    return status


def active_model(address: str) -> str:
    """The inference server at `address` serves a model; returns its version."""
    import grpc

    from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES, make_channel
    from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc

    channel = make_channel(address, ca_variables=INFERENCE_CA_VARIABLES)
    try:
        info = inference_pb2_grpc.InferenceStub(channel).GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=2.0)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise CliError(
                f"the inference server at {address} has no active model",
                "promote one: tensorkart models promote VERSION (see tensorkart models list)",
            ) from None
        raise CliError(
            f"the inference server at {address} did not answer: {error.code().name}",
            STACK_FIX.format(variable="INFERENCE_ADDR", service="inference server"),
        ) from None
    finally:
        channel.close()
    return info.version


def dataset_name_free(address: str, name: str) -> None:
    """Ask the recorder (which may be remote) whether samples/NAME is taken; fail if it is."""
    import grpc

    from tensorkart_core.grpc_client import make_channel
    from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc

    channel = make_channel(address)
    try:
        found = recorder_pb2_grpc.RecorderStub(channel).GetSession(
            recorder_pb2.GetSessionRequest(name=name), timeout=2.0
        )
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return
        raise CliError(f"the recorder at {address} could not check dataset {name!r}: {error.details()}") from None
    finally:
        channel.close()
    raise dataset_taken(name, found.frames_written)


def dataset_taken(name: str, frames: int | None = None) -> CliError:
    held = f", {frames} frames" if frames else ""
    return CliError(
        f"dataset {name!r} already exists (samples/{name}{held})",
        "choose another --name, or add --resume to append to it",
    )
