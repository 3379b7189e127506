"""`tensorkart predict IMAGE.png [...]`: images through the running inference server.

One unary Predict call per image to INFERENCE_ADDR (default 127.0.0.1:50052; token and
TLS from TENSORKART_TOKEN / TENSORKART_TLS_CA); one JSON line per image:
{"image": path, "version": model version, "outputs": [raw model outputs],
 "labels": {output name: value}} — the names are the model's declared outputs (ModelInfo.outputs),
e.g. {"x": -0.12, "a": 0.97}. Before the first image it checks that a server answers and serves a
model (one line naming the fix otherwise).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import typer

from tensorkart_cli.errors import CliError, error_line
from tensorkart_cli.settings import cli_settings


def frame_from_file(path: Path, sequence: int):
    """A Frame carrying the file as it is (PNG/JPEG) or, for other formats, as raw RGB."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from tensorkart_core.images import encode_frame
    from tensorkart_core.proto.v1 import types_pb2

    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            rgb = np.asarray(image.convert("RGB")) if kind not in ("PNG", "JPEG") else None
    except (UnidentifiedImageError, OSError):
        raise ValueError(f"{path}: not an image (Pillow cannot read it)") from None
    if rgb is not None:
        return encode_frame(rgb, sequence, 0)
    encoding = types_pb2.ENCODING_PNG if kind == "PNG" else types_pb2.ENCODING_JPEG
    return types_pb2.Frame(sequence=sequence, width=width, height=height, encoding=encoding, data=data)


def predict(
    images: list[Path] = typer.Argument(..., help="image files (PNG, JPEG, or anything Pillow reads)"),
    address: str = typer.Option(
        None, "--inference", help="inference server host:port [default: INFERENCE_ADDR or 127.0.0.1:50052]"
    ),
    timeout: float = typer.Option(30.0, help="seconds per call"),
) -> None:
    """Send images to the running inference server; print the model's outputs, labelled, one JSON line each."""
    import grpc

    from tensorkart_cli import preflight
    from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES, make_channel
    from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc

    address = address or cli_settings().inference_addr
    preflight.grpc_service(address, "inference server", "INFERENCE_ADDR")
    preflight.active_model(address)
    stub = inference_pb2_grpc.InferenceStub(make_channel(address, ca_variables=INFERENCE_CA_VARIABLES))
    names: dict[str, list[str]] = {}

    def labels(version: str, outputs: list[float]) -> dict[str, float]:
        """The model's declared output names (asked once per version) with their values."""
        if version not in names:
            try:
                info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=timeout)
            except grpc.RpcError:
                return {}
            names[version] = list(info.outputs) if info.version == version else []
        declared = names[version]
        return dict(zip(declared, outputs, strict=True)) if len(declared) == len(outputs) else {}

    failed = 0
    for sequence, path in enumerate(images, start=1):
        try:
            if not path.is_file():
                raise ValueError(f"{path}: no such file")
            frame = frame_from_file(path, sequence)
            answer = stub.Predict(inference_pb2.PredictRequest(frame=frame), timeout=timeout)
        except ValueError as error:
            typer.echo(error_line(str(error), "give PNG or JPEG files (or any image Pillow reads)"), err=True)
            failed += 1
            continue
        except grpc.RpcError as error:
            what = f"{path}: the inference server at {address} answered {error.code().name}: {error.details()}"
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.FAILED_PRECONDITION):
                raise CliError(what, "check the stack: tensorkart up, tensorkart models promote VERSION") from None
            typer.echo(error_line(what), err=True)
            failed += 1
            continue
        outputs = [float(v) for v in answer.outputs]
        line = {
            "image": str(path),
            "version": answer.model_version,
            "outputs": outputs,
            "labels": labels(answer.model_version, outputs),
        }
        typer.echo(json.dumps(line))
    if failed:
        raise typer.Exit(1)
