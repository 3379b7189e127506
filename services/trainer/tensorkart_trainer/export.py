"""Write a trained model as a registry version: Keras model, LiteRT export, model.json.

models/<version>/model.keras    the Keras model (TensorFlow serving, fine-tuning)
models/<version>/model.tflite   LiteRT export for CPU inference (XNNPACK)
models/<version>/model.json     metadata: pre-processing spec, outputs, job, datasets, metrics
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import model_dir, write_metadata

KERAS_NAME = "model.keras"
TFLITE_NAME = "model.tflite"


def to_tflite(model) -> bytes:
    """Convert a Keras model to a float32 LiteRT flatbuffer."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return converter.convert()


def save_model_version(
    model,
    data_root: Path,
    version: str,
    spec: PreprocessSpec,
    outputs: list[str],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save `model` under models/<version>/ and return that folder; model.json is written last."""
    folder = model_dir(data_root, version)
    folder.mkdir(parents=True, exist_ok=False)
    model.save(folder / KERAS_NAME)
    tmp = folder / f".{TFLITE_NAME}.tmp"
    tmp.write_bytes(to_tflite(model))
    tmp.replace(folder / TFLITE_NAME)
    metadata = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "preprocess": spec.model_dump(),
        "preprocess_id": spec.id,
        "outputs": list(outputs),
        "files": {"keras": KERAS_NAME, "tflite": TFLITE_NAME},
        **(extra or {}),
    }
    write_metadata(data_root, version, metadata)
    return folder
