"""`tensorkart predict IMAGE.png [...]`: images through the running inference server.

One unary Predict call per image to INFERENCE_ADDR (default 127.0.0.1:50052; token and
TLS from TENSORKART_TOKEN / TENSORKART_TLS_CA); one JSON line per image:
{"image": path, "version": model version, "outputs": [raw model outputs]}.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import typer

DEFAULT_INFERENCE_ADDR = "127.0.0.1:50052"


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
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path}: not an image ({error})") from None
    if rgb is not None:
        return encode_frame(rgb, sequence, 0)
    encoding = types_pb2.ENCODING_PNG if kind == "PNG" else types_pb2.ENCODING_JPEG
    return types_pb2.Frame(sequence=sequence, width=width, height=height, encoding=encoding, data=data)


def predict(
    images: list[Path] = typer.Argument(..., help="image files (PNG, JPEG, or anything Pillow reads)"),
    address: str = typer.Option(
        None, "--inference", envvar="INFERENCE_ADDR", help=f"inference server host:port [{DEFAULT_INFERENCE_ADDR}]"
    ),
    timeout: float = typer.Option(30.0, help="seconds per call"),
) -> None:
    """Send images to the running inference server; print the model's raw outputs, one JSON line each."""
    import grpc

    from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES, make_channel
    from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc

    address = address or os.environ.get("INFERENCE_ADDR") or DEFAULT_INFERENCE_ADDR
    stub = inference_pb2_grpc.InferenceStub(make_channel(address, ca_variables=INFERENCE_CA_VARIABLES))
    failed = 0
    for sequence, path in enumerate(images, start=1):
        try:
            if not path.is_file():
                raise ValueError(f"{path}: no such file")
            frame = frame_from_file(path, sequence)
            answer = stub.Predict(inference_pb2.PredictRequest(frame=frame), timeout=timeout)
        except ValueError as error:
            typer.echo(f"error: {error}", err=True)
            failed += 1
            continue
        except grpc.RpcError as error:
            typer.echo(f"error: {path}: inference at {address}: {error.code().name}: {error.details()}", err=True)
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.FAILED_PRECONDITION):
                raise typer.Exit(1) from None
            failed += 1
            continue
        line = {"image": str(path), "version": answer.model_version, "outputs": [float(v) for v in answer.outputs]}
        typer.echo(json.dumps(line))
    if failed:
        raise typer.Exit(1)
