"""The shared pre-processing spec: prepared frames keep the picture, and every side
(training, serving, edge capture) gets identical tensors from the same screen."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from tensorkart_core.images import decode_frame, encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC, PreprocessSpec
from tensorkart_core.proto.v1 import types_pb2


def screen(seed: int = 0) -> np.ndarray:
    """A 640x480 frame with structure: sky, road trapezoid, grass, noise."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:200] = (90, 160, 230)
    frame[200:] = (40, 150, 50)
    rows = np.arange(200, 480)
    half = (rows - 200) * 1.1 + 20
    for row, h in zip(rows, half, strict=True):
        frame[row, max(0, int(320 - h)) : int(320 + h)] = (110, 110, 110)
    return np.clip(frame.astype(int) + rng.integers(-8, 9, frame.shape), 0, 255).astype(np.uint8)


def test_prepared_frame_still_carries_the_picture() -> None:
    rgb = screen()
    model_input = DEFAULT_SPEC(rgb)
    assert model_input.shape == (66, 200, 3) and model_input.dtype == np.float32
    assert model_input.min() >= 0.0 and model_input.max() <= 1.0
    # Not black, not constant: sky, road and grass are still there, where they were.
    assert model_input.std() > 0.1
    sky, grass_left = model_input[5, 100], model_input[60, 5]
    assert sky[2] > sky[1] > sky[0]  # blue sky on top
    assert grass_left[1] > grass_left[0] and grass_left[1] > grass_left[2]  # green at the bottom left
    # It is the same picture as a plain downscale of the source.
    reference = np.asarray(Image.fromarray(rgb).resize((200, 66), Image.Resampling.BILINEAR), np.float32) / 255
    assert np.abs(model_input - reference).mean() < 0.01


def test_the_original_prepare_bug_is_real_and_ours_does_not_have_it() -> None:
    """TensorKart's utils.py stored skimage's 0..1 floats into a uint8 array: all zeros."""
    from skimage.transform import resize

    rgb = screen()
    original = np.empty((1, 66, 200, 3), dtype=np.uint8)
    original[0] = resize(rgb, (66, 200, 3))
    assert original.max() <= 1  # every training image black (0) with the odd 1
    assert DEFAULT_SPEC.prepare(rgb).max() > 100


@pytest.mark.parametrize(
    "spec",
    [
        DEFAULT_SPEC,  # pyramid (OpenCV)
        PreprocessSpec(crop_top=0.4, crop_left=0.05, crop_right=0.93),  # pyramid with a crop
        PreprocessSpec(crop_top=0.4, interpolation="area"),  # Pillow
    ],
    ids=["default-pyramid", "crop-pyramid", "crop-area-pillow"],
)
def test_training_serving_and_edge_sides_agree_exactly(spec: PreprocessSpec) -> None:
    rgb = screen(1)
    # Training side: decode the PNG on disk, then the spec.
    png = io.BytesIO()
    Image.fromarray(rgb).save(png, format="PNG")
    decoded = np.asarray(Image.open(io.BytesIO(png.getvalue())).convert("RGB"))
    training = spec(decoded)
    # Serving side, full frame on the wire.
    served = spec(decode_frame(encode_frame(rgb, 1, 0)))
    # Serving side, pre-processed at the edge and sent small.
    edge = encode_frame(spec.prepare(rgb), 2, 0, encoding=types_pb2.ENCODING_PNG, preprocess_id=spec.id)
    from_edge = spec.to_model_input(decode_frame(edge))
    assert np.array_equal(training, served)
    assert np.array_equal(training, from_edge)
    assert len(edge.data) < 60_000


def test_spec_round_trips_and_fingerprints() -> None:
    spec = PreprocessSpec(crop_top=0.25, scale="byte")
    assert PreprocessSpec.from_json(spec.to_json()) == spec
    assert spec.id == PreprocessSpec.from_json(spec.to_json()).id
    assert spec.id != DEFAULT_SPEC.id
    assert spec(screen()).max() > 1.0  # byte scaling keeps 0..255


@pytest.mark.parametrize(
    "kwargs",
    [{"crop_left": 0.6, "crop_right": 0.5}, {"width": 0}, {"interpolation": "lanczos9"}, {"scale": "percent"}],
)
def test_invalid_specs_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        PreprocessSpec(**kwargs)


def test_wrong_input_is_named() -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        DEFAULT_SPEC.prepare(np.zeros((480, 640), np.uint8))
