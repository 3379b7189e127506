"""Small PilotNet model versions for inference and play tests (random weights, real exports).

Built once per test session with the trainer's own builder and exporter, then copied into
each test's data root; `litert_outputs` runs in-process the LiteRT file a server serves for
that version (`served_tflite`: int8 by default, as INFERENCE_PRECISION), the reference the
served answers are compared with.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from tensorkart_core.preprocess import DEFAULT_SPEC, PreprocessSpec

OUTPUTS = ["x", "y", "a", "b", "rb"]
# a spec with a crop: its id differs from DEFAULT_SPEC's (edge pre-processing across a swap)
CROP_SPEC = PreprocessSpec(crop_top=0.25)
BANK = {"va": (1, DEFAULT_SPEC), "vb": (2, DEFAULT_SPEC), "vcrop": (3, CROP_SPEC)}


def build_bank(root: Path) -> Path:
    """Write the versions of BANK under root/models/ (takes a few seconds: TensorFlow)."""
    import keras

    from tensorkart_trainer.export import save_model_version
    from tensorkart_trainer.pilotnet import build_pilotnet

    for version, (seed, spec) in BANK.items():
        keras.utils.set_random_seed(seed)
        model = build_pilotnet(len(OUTPUTS), spec.input_shape)
        # random final layer biases so different versions steer visibly differently
        final = model.layers[-1]
        kernel, bias = final.get_weights()
        final.set_weights([kernel, np.random.default_rng(seed).uniform(-1.5, 1.5, bias.shape).astype(np.float32)])
        save_model_version(model, root, version, spec, OUTPUTS, {"job": "test"})
    return root


def install(bank: Path, data_root: Path, *versions: str) -> None:
    for version in versions:
        shutil.copytree(bank / "models" / version, data_root / "models" / version)


def install_corrupt(bank: Path, data_root: Path, source: str, version: str) -> None:
    """A copy of `source` named `version` whose LiteRT files (float32 and int8) are truncated."""
    target = data_root / "models" / version
    shutil.copytree(bank / "models" / source, target)
    for tflite in target.glob("*.tflite"):
        tflite.write_bytes(tflite.read_bytes()[:4096])
    metadata = json.loads((target / "model.json").read_text())
    metadata["version"] = version
    (target / "model.json").write_text(json.dumps(metadata))


def install_float_only(bank: Path, data_root: Path, source: str, version: str) -> None:
    """A copy of `source` named `version` as exported before int8: no model.int8.tflite, and
    model.json without `files.tflite_int8` or `quantization`."""
    target = data_root / "models" / version
    shutil.copytree(bank / "models" / source, target)
    metadata = json.loads((target / "model.json").read_text())
    (target / metadata["files"].pop("tflite_int8")).unlink()
    metadata.pop("quantization", None)
    metadata["version"] = version
    (target / "model.json").write_text(json.dumps(metadata))


def served_tflite(data_root: Path, version: str, precision: str = "int8") -> Path:
    """The LiteRT file an inference server with INFERENCE_PRECISION=`precision` serves for
    `version`: the loader's own choice (models.litert_file) from its model.json."""
    from tensorkart_inference.models import litert_file

    folder = data_root / "models" / version
    return litert_file(folder, json.loads((folder / "model.json").read_text()), precision)[0]


def litert_outputs(data_root: Path, version: str, model_input: np.ndarray, precision: str = "int8") -> np.ndarray:
    """Run the LiteRT file served for `version` (see served_tflite) in this process on one model
    input (H, W, 3) float32; precision="float32" runs the exact float export."""
    from ai_edge_litert.interpreter import Interpreter

    path = served_tflite(data_root, version, precision)
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    interpreter.set_tensor(inp["index"], model_input[np.newaxis].astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])[0].copy()


def test_frame(seed: int = 0, width: int = 640, height: int = 480) -> np.ndarray:
    """A picture with structure (gradients + noise), not a flat colour."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 255 // width, ys * 255 // height, (xs + ys) % 256], axis=-1)
    return np.clip(base + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)


test_frame.__test__ = False  # not a pytest test
