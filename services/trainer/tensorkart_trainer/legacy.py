"""TensorKart/workshop `model_weights.h5` files: Keras 2 HDF5 weights of exactly the PilotNet network.

Import reads the Keras 2 layout directly with h5py (root attribute `layer_names`; one
group per layer whose `weight_names` attribute lists its arrays in order), checks every
shape against `build_pilotnet`, and registers a model version served with the play.py
input convention (LEGACY_PLAY_SPEC: resize to 200x66, scale to 0..1). `write_keras2_h5`
writes the same layout (what Keras 2's `save_weights('x.h5')` produced).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core.preprocess import LEGACY_PLAY_SPEC
from tensorkart_core.registry import new_version
from tensorkart_trainer.pilotnet import OUTPUT_NAMES


class LegacyWeightsError(ValueError):
    """The file is not Keras 2 HDF5 weights of the PilotNet network; the message says why."""


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes | np.bytes_) else str(value)


def read_keras2_weights(path: Path) -> list[tuple[str, list[np.ndarray]]]:
    """(layer name, [arrays]) for every layer that has weights, in the file's layer order."""
    import zipfile

    import h5py

    if zipfile.is_zipfile(path):
        raise LegacyWeightsError(
            f"{path}: a Keras 3 '.keras' archive; only Keras 2 .h5 weights (TensorKart's model_weights.h5) are imported"
        )
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise LegacyWeightsError(f"{path}: not an HDF5 file; only Keras 2 .h5 weights are imported") from None
    with handle:
        group = handle.get("model_weights", handle)
        if "layer_names" not in group.attrs:
            raise LegacyWeightsError(
                f"{path}: no 'layer_names' attribute: not a Keras 2 weights file (Keras 3 '.weights.h5' files differ)"
            )
        backend = _text(group.attrs.get("backend", handle.attrs.get("backend", "tensorflow")))
        if backend == "theano":
            raise LegacyWeightsError(
                f"{path}: saved with the Theano backend (flipped kernels); re-save with TensorFlow"
            )
        layers = []
        for name in (_text(n) for n in group.attrs["layer_names"]):
            layer = group[name]
            names = [_text(n) for n in layer.attrs.get("weight_names", [])]
            if names:
                layers.append((name, [np.asarray(layer[w]) for w in names]))
        return layers


def load_legacy_model(path: Path):
    """A PilotNet Keras model carrying the weights of `path` (outputs taken from the last layer)."""
    from tensorkart_trainer.pilotnet import build_pilotnet

    layers = read_keras2_weights(path)
    if not layers:
        raise LegacyWeightsError(f"{path}: holds no weights")
    outputs = int(layers[-1][1][-1].shape[-1])
    if not 1 <= outputs <= len(OUTPUT_NAMES):
        raise LegacyWeightsError(f"{path}: last layer has {outputs} outputs; PilotNet has 1..5 (x, y, a, b, rb)")
    model = build_pilotnet(outputs, LEGACY_PLAY_SPEC.input_shape)
    targets = [layer for layer in model.layers if layer.weights]
    if len(targets) != len(layers):
        raise LegacyWeightsError(
            f"{path}: {len(layers)} layers with weights ({', '.join(n for n, _ in layers)}); "
            f"PilotNet has {len(targets)}"
        )
    for target, (name, arrays) in zip(targets, layers, strict=True):
        expected = [tuple(w.shape) for w in target.weights]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise LegacyWeightsError(f"{path}: layer {name!r} has shapes {got}; PilotNet expects {expected} there")
        target.set_weights(arrays)
    return model, list(OUTPUT_NAMES[:outputs])


def import_weights(path: Path, data_root: Path, version: str | None = None) -> str:
    """Register `path` as a new model version (LEGACY_PLAY_SPEC, outputs from the file); return it."""
    from tensorkart_trainer.export import save_model_version

    path = Path(path)
    if not path.is_file():
        raise LegacyWeightsError(f"{path}: no such file")
    model, outputs = load_legacy_model(path)
    version = version or new_version()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    extra = {
        "source": {"kind": "keras2_h5_weights", "file": path.name, "sha256": digest},
        "job": None,
        "datasets": [],
        "metrics": {},
        "evaluation": {"status": "off", "reason": "imported weights", "tracks": {}},
    }
    save_model_version(model, data_root, version, LEGACY_PLAY_SPEC, outputs, extra)
    return version


def write_keras2_h5(model, path: Path, keras_version: str = "2.1.6") -> None:
    """Save `model`'s weights in the Keras 2 HDF5 layout (as TensorKart's `model.save_weights` did)."""
    import h5py

    counters: dict[str, int] = {}
    with h5py.File(path, "w") as handle:
        names = []
        groups = []
        for layer in model.layers:
            kind = {"Conv2D": "conv2d", "Dense": "dense", "Dropout": "dropout", "Flatten": "flatten"}.get(
                type(layer).__name__, type(layer).__name__.lower()
            )
            counters[kind] = counters.get(kind, 0) + 1
            name = f"{kind}_{counters[kind]}"
            names.append(name)
            groups.append((name, layer))
        handle.attrs["layer_names"] = np.asarray([n.encode() for n in names])
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["keras_version"] = keras_version.encode()
        for name, layer in groups:
            group = handle.create_group(name)
            weight_names = []
            for weight in layer.weights:
                suffix = "kernel" if len(weight.shape) > 1 else "bias"
                weight_name = f"{name}/{suffix}:0"
                group.create_dataset(weight_name, data=np.asarray(weight.numpy()))
                weight_names.append(weight_name.encode())
            group.attrs["weight_names"] = np.asarray(weight_names, dtype="S")
