"""Write a trained model as a registry version: Keras model, LiteRT exports, model.json.

models/<version>/model.keras        the Keras model (TensorFlow serving, fine-tuning)
models/<version>/model.tflite       float32 LiteRT export (exact; INFERENCE_PRECISION=float32)
models/<version>/model.int8.tflite  dynamic-range quantized LiteRT export: int8 weights, float
                                    activations (served by default: ~4x faster on XNNPACK)
models/<version>/model.json         metadata: pre-processing spec, outputs, job, datasets, metrics,
                                    and how far the int8 export's outputs are from the float one's
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import model_dir, write_file_atomically, write_metadata

KERAS_NAME = "model.keras"
TFLITE_NAME = "model.tflite"
TFLITE_INT8_NAME = "model.int8.tflite"
RANDOM_PROBES = 8  # seeded random frames measured besides a blank one and the caller's probes
MAX_PROBES = 64  # caller-supplied probe inputs beyond this many are ignored


def to_tflite(model, quantize: bool = False) -> bytes:
    """Convert a Keras model to a LiteRT flatbuffer: float32, or with `quantize` dynamic-range
    int8 (weights stored as int8, activations stay float; no representative dataset needed)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def _interpreter(content: bytes):
    """A LiteRT interpreter on a flatbuffer in memory: ai_edge_litert (what inference serves
    with) when installed, else TensorFlow's own copy of the same runtime."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns that it is deprecated
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_content=content, num_threads=1)
    return Interpreter(model_content=content, num_threads=1)


def run_litert(content: bytes, inputs: np.ndarray) -> np.ndarray:
    """Run a LiteRT flatbuffer on model inputs (N, H, W, 3) one frame at a time -> (N, outputs)."""
    interpreter = _interpreter(content)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    results = []
    for single in np.asarray(inputs, dtype=np.float32):
        interpreter.set_tensor(inp["index"], single[np.newaxis])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"])[0].copy())
    return np.stack(results)


def probe_inputs_for(spec: PreprocessSpec, extra: np.ndarray | Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Model inputs on which the int8 export is compared with the float one: a blank frame,
    RANDOM_PROBES seeded random frames (in the model's input scale) and up to MAX_PROBES of
    `extra` (model inputs (H, W, 3) float32, e.g. validation frames)."""
    rng = np.random.default_rng(0)
    pixels = np.concatenate(
        [
            np.zeros((1, *spec.input_shape), dtype=np.uint8),
            rng.integers(0, 256, (RANDOM_PROBES, *spec.input_shape), dtype=np.uint8),
        ]
    )
    probes = [spec.to_model_input(pixels)]
    if extra is not None and len(extra):
        given = np.asarray(extra, dtype=np.float32)[:MAX_PROBES]
        if given.shape[1:] != spec.input_shape:
            raise ValueError(f"probe inputs have shape {given.shape[1:]}, the model takes {spec.input_shape}")
        probes.append(given)
    return np.concatenate(probes).astype(np.float32, copy=False)


def quantization_report(float_model: bytes, int8_model: bytes, probes: np.ndarray) -> dict[str, Any]:
    """How far the int8 export's outputs are from the float32 export's on `probes`."""
    diff = np.abs(run_litert(int8_model, probes) - run_litert(float_model, probes))
    return {
        "mode": "dynamic-range",
        "int8_max_abs_diff": float(diff.max()),
        "int8_mean_abs_diff": float(diff.mean()),
        "probe_frames": len(probes),
    }


def save_model_version(
    model,
    data_root: Path,
    version: str,
    spec: PreprocessSpec,
    outputs: list[str],
    extra: dict[str, Any] | None = None,
    probe_inputs: np.ndarray | Sequence[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Save `model` under models/<version>/ and return the model.json written there (last).

    `probe_inputs` (optional, at most MAX_PROBES used): real model inputs (H, W, 3) float32, e.g.
    validation frames, on which the int8 export is measured against the float one besides a blank
    and a few random frames; the result goes to model.json's `quantization`.
    """
    folder = model_dir(data_root, version)
    folder.mkdir(parents=True, exist_ok=False)
    model.save(folder / KERAS_NAME)
    float_model = to_tflite(model)
    write_file_atomically(folder / TFLITE_NAME, float_model)
    int8_model = to_tflite(model, quantize=True)
    write_file_atomically(folder / TFLITE_INT8_NAME, int8_model)
    quantization = quantization_report(float_model, int8_model, probe_inputs_for(spec, probe_inputs))
    metadata = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "preprocess": spec.model_dump(),
        "preprocess_id": spec.id,
        "outputs": list(outputs),
        "files": {"keras": KERAS_NAME, "tflite": TFLITE_NAME, "tflite_int8": TFLITE_INT8_NAME},
        "quantization": quantization,
        **(extra or {}),
    }
    write_metadata(data_root, version, metadata)
    return metadata
