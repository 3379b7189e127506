"""Predicted-vs-recorded steering of a model version over a dataset, for the dashboard's curation page.

The model runs as registered: its float LiteRT export (models/<version>/model.tflite, what
export.py wrote and checked) on frames prepared by its own pre-processing spec from model.json.
Results are cached per (dataset, model, data.csv and deleted.csv versions: inode, mtime, size), so a
curation change recomputes and an unchanged dataset answers at once. No TensorFlow import here
unless ai_edge_litert is missing (export._interpreter's fallback).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core import datasets as ds
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import RegistryError, model_dir, read_metadata
from tensorkart_trainer.decode import read_rgb
from tensorkart_trainer.export import TFLITE_NAME, run_litert

CACHE_SIZE = 16
BATCH = 64


class ModelNotUsable(LookupError):
    """A model version that is missing or cannot run here; says why."""


_cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def _model(data_root: Path, version: str) -> tuple[bytes, PreprocessSpec, list[str]]:
    try:
        metadata = read_metadata(data_root, version)
    except (RegistryError, OSError, ValueError) as error:
        raise ModelNotUsable(f"model {version!r} not found ({error})") from None
    path = model_dir(data_root, version) / (metadata.get("files") or {}).get("tflite", TFLITE_NAME)
    if not path.is_file():
        raise ModelNotUsable(f"model {version!r} has no LiteRT export ({path.name})")
    try:
        spec = PreprocessSpec.model_validate(metadata["preprocess"])
        outputs = [str(o) for o in metadata["outputs"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ModelNotUsable(f"model {version!r}: model.json lacks a usable preprocess/outputs ({error})") from None
    return path.read_bytes(), spec, outputs


def predictions(data_root: Path, name: str, version: str) -> dict[str, Any]:
    """`{dataset, model, outputs, index, deleted, recorded_x, predicted_x, recorded_y, predicted_y,
    recorded_a, predicted_a}` over every timeline frame (soft-deleted ones too); a predicted column
    is null when the model has no such output."""
    key = (str(Path(data_root).resolve()), name, version, ds.stamp(data_root, name))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    content, spec, outputs = _model(data_root, version)
    frames = ds.frames(data_root, name)
    folder_csv = ds.dataset_dir(data_root, name) / ds.CSV_NAME
    values: list[np.ndarray] = []
    for start in range(0, len(frames), BATCH):
        batch = frames[start : start + BATCH]
        inputs = np.stack(
            [
                spec.to_model_input(spec.prepare(read_rgb(str(ds.resolve_image(data_root, folder_csv, f.row.image)))))
                for f in batch
            ]
        )
        values.append(run_litert(content, inputs))
    predicted = np.concatenate(values) if values else np.zeros((0, len(outputs)), np.float32)

    def column(output: str) -> list[float] | None:
        if output not in outputs:
            return None
        return [round(float(v), 5) for v in predicted[:, outputs.index(output)]]

    result = {
        "dataset": name,
        "model": version,
        "outputs": outputs,
        "index": [f.index for f in frames],
        "deleted": [f.deleted for f in frames],
        "recorded_x": [f.row.x for f in frames],
        "predicted_x": column("x"),
        "recorded_y": [f.row.y for f in frames],
        "predicted_y": column("y"),
        "recorded_a": [f.row.a for f in frames],
        "predicted_a": column("a"),
    }
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result
