"""Which pixels drive the steering: VisualBackProp (Bojarski et al. 2017) for a PilotNet version.

VisualBackProp: average each convolution's (ReLU) feature maps over channels; starting from
the deepest, scale the average up to the size of the layer before it with a transposed
convolution of that layer's kernel size and stride (all-ones kernel) and multiply it point-wise
with that layer's average; the last scale-up reaches the input. The mask is normalised to 0..1.

`overlay_png` returns the frame (as the model sees it: the spec's crop, at the frame's size)
with the mask in red over it, as a PNG. It imports TensorFlow: the API runs it in a child
process (api/routers/saliency.py), never in its own.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import read_metadata


@lru_cache(maxsize=4)
def _model(data_root: str, version: str, mtime: float) -> tuple[Any, list[Any], PreprocessSpec]:
    """(model returning the conv activations, conv layers, spec); `mtime` keys the cache to the files."""
    import keras

    meta = read_metadata(Path(data_root), version)
    model = keras.models.load_model(Path(data_root) / "models" / version / meta["files"]["keras"], compile=False)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ValueError(f"model {version} has no convolution layers")
    probe = keras.Model(model.inputs, [layer.output for layer in convs])
    return probe, convs, PreprocessSpec.model_validate(meta["preprocess"])


def _load(data_root: Path, version: str) -> tuple[Any, list[Any], PreprocessSpec]:
    mtime = (Path(data_root) / "models" / version / "model.json").stat().st_mtime
    return _model(str(data_root), version, mtime)


def visual_backprop(data_root: Path, version: str, rgb: np.ndarray) -> np.ndarray:
    """The VisualBackProp mask (model input height x width, float32 in 0..1) of one RGB frame."""
    import tensorflow as tf

    probe, convs, spec = _load(data_root, version)
    x = spec(rgb)[None]
    activations = probe(x, training=False)
    if not isinstance(activations, list | tuple):
        activations = [activations]
    means = [tf.reduce_mean(a, axis=-1, keepdims=True) for a in activations]
    shapes = [tuple(x.shape[1:3])] + [tuple(m.shape[1:3]) for m in means[:-1]]
    mask = means[-1]
    for i in range(len(means) - 1, -1, -1):
        kh, kw = convs[i].kernel_size
        sh, sw = convs[i].strides
        height, width = shapes[i]
        mask = tf.nn.conv2d_transpose(
            mask, tf.ones((kh, kw, 1, 1)), output_shape=(1, height, width, 1), strides=(sh, sw), padding="VALID"
        )
        if i > 0:
            mask = mask * means[i - 1]
    mask = mask.numpy()[0, :, :, 0]
    low, high = float(mask.min()), float(mask.max())
    return ((mask - low) / (high - low) if high > low else np.zeros_like(mask)).astype(np.float32)


def overlay_png(data_root: str, version: str, image_bytes: bytes, alpha: float = 0.6) -> bytes:
    """PNG: the frame's model-visible crop with the VisualBackProp mask in red over it."""
    rgb = np.asarray(Image.open(io.BytesIO(image_bytes)).convert("RGB"))
    mask = visual_backprop(Path(data_root), version, rgb)
    left, top, right, bottom = _load(Path(data_root), version)[2].crop_box(rgb.shape[1], rgb.shape[0])
    crop = rgb[top:bottom, left:right]
    heat = Image.fromarray((mask * 255).astype(np.uint8)).resize((crop.shape[1], crop.shape[0]), Image.BILINEAR)
    weight = (np.asarray(heat, dtype=np.float32) / 255.0 * alpha)[..., None]
    red = np.zeros_like(crop, dtype=np.float32)
    red[..., 0] = 255.0
    out = (crop.astype(np.float32) * (1 - weight) + red * weight).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, format="PNG")
    return buffer.getvalue()
