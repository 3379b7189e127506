"""The registry export: Keras model, exact float32 LiteRT file, int8 LiteRT file, model.json last."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.registry import model_dir, read_metadata

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def test_export_writes_float_and_int8_litert_files_and_measures_their_difference(data_root: Path) -> None:
    import keras

    from tensorkart_trainer.export import probe_inputs_for, run_litert, save_model_version
    from tensorkart_trainer.pilotnet import build_pilotnet

    keras.utils.set_random_seed(3)
    model = build_pilotnet(5, DEFAULT_SPEC.input_shape)
    final = model.layers[-1]  # outputs spread over [-1, 1], not all near 0
    kernel, bias = final.get_weights()
    final.set_weights([kernel, np.random.default_rng(3).uniform(-1.5, 1.5, bias.shape).astype(np.float32)])
    rng = np.random.default_rng(4)
    real = DEFAULT_SPEC.to_model_input(rng.integers(0, 256, (5, *DEFAULT_SPEC.input_shape), dtype=np.uint8))

    written = save_model_version(model, data_root, "vq", DEFAULT_SPEC, ["x", "y", "a", "b", "rb"], probe_inputs=real)
    meta = read_metadata(data_root, "vq")
    assert written == meta
    folder = model_dir(data_root, "vq")
    assert meta["files"] == {"keras": "model.keras", "tflite": "model.tflite", "tflite_int8": "model.int8.tflite"}
    assert sorted(p.name for p in folder.iterdir()) == sorted([*meta["files"].values(), "model.json"])  # no tmp
    float_bytes = (folder / "model.tflite").read_bytes()
    int8_bytes = (folder / "model.int8.tflite").read_bytes()
    assert len(int8_bytes) < len(float_bytes) / 3  # int8 weights: about a quarter of the size

    quantization = meta["quantization"]
    probes = probe_inputs_for(DEFAULT_SPEC, real)
    assert quantization["probe_frames"] == len(probes) == 1 + 8 + len(real)
    assert np.isfinite(quantization["int8_max_abs_diff"]) and np.isfinite(quantization["int8_mean_abs_diff"])
    assert 0 < quantization["int8_mean_abs_diff"] <= quantization["int8_max_abs_diff"] < 1e-2
    # the recorded numbers are those of the files written
    expected = run_litert(float_bytes, probes)
    diff = np.abs(run_litert(int8_bytes, probes) - expected)
    assert quantization["int8_max_abs_diff"] == pytest.approx(float(diff.max()), rel=1e-6)
    np.testing.assert_allclose(expected, model.predict(probes, verbose=0), atol=1e-5)  # float32 is exact

    with pytest.raises(ValueError, match="shape"):
        probe_inputs_for(DEFAULT_SPEC, np.zeros((2, 10, 10, 3), np.float32))
