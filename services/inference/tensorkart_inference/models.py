"""Loading a model version for serving: LiteRT (XNNPACK, CPU) or TensorFlow (GPU host).

A `ServedModel` is everything one version needs to answer frames: its pre-processing
spec, output names, and a thread-safe `predict` (one model input -> raw outputs). A
model is only handed out after `warm_up` ran it end to end, so the first real frame
pays no first-call cost and a broken export is refused before it can serve.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import model_dir, read_metadata
from tensorkart_inference.batching import DynamicBatcher
from tensorkart_inference.settings import InferenceSettings

log = logging.getLogger(__name__)

KNOWN_OUTPUTS = ("x", "y", "a", "b", "rb")


class ModelLoadError(RuntimeError):
    """A model version that cannot serve; the message says why."""


@dataclass
class ServedModel:
    """One loaded, warmed-up model version."""

    version: str
    spec: PreprocessSpec
    outputs: list[str]
    backend: str
    predict: Callable[[np.ndarray], np.ndarray]
    close: Callable[[], None] = lambda: None
    metadata: dict[str, Any] = field(default_factory=dict)
    served_file: Path | None = None  # the LiteRT file being served (None: tensorflow backend)
    warm_invoke_s: float = float("inf")  # the quickest warm-up run: how long one frame holds a caller
    # several model inputs -> their outputs (N, k) in one call (LiteRT: one interpreter borrowed
    # for all; TensorFlow: one batch); None = `predict` each
    run_many: Callable[[Sequence[np.ndarray]], np.ndarray] | None = None

    @property
    def can_run_inline(self) -> bool:
        """A LiteRT model is a plain call; the TensorFlow batcher waits for other callers' frames,
        so it must never run on the event loop whatever its speed."""
        return self.served_file is not None

    def predict_many(self, inputs: Sequence[np.ndarray]) -> np.ndarray:
        """Outputs (N, k) for N model inputs (a batch of frames of concurrent streams)."""
        if self.run_many is not None:
            return self.run_many(inputs)
        return np.stack([self.predict(single) for single in inputs])

    @property
    def spec_id(self) -> str:
        return self.spec.id

    def warm_up(self, runs: int) -> None:
        """Run the model on a blank frame; raise ModelLoadError on a bad result."""
        blank = self.spec.to_model_input(np.zeros(self.spec.input_shape, dtype=np.uint8))
        for _ in range(runs):
            started = time.perf_counter()
            result = np.asarray(self.predict(blank))
            self.warm_invoke_s = min(self.warm_invoke_s, time.perf_counter() - started)
            if result.shape != (len(self.outputs),):
                raise ModelLoadError(
                    f"model {self.version}: output shape {result.shape}, model.json declares {len(self.outputs)} "
                    f"outputs {self.outputs}"
                )
            if not np.all(np.isfinite(result)):
                raise ModelLoadError(f"model {self.version}: non-finite outputs on a blank frame: {result}")


class LiteRTPool:
    """A few LiteRT interpreters of one model: an interpreter is not thread-safe, so each
    concurrent frame borrows one."""

    def __init__(self, path: Path, size: int, num_threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        # LIFO: the interpreter used last has its packed weights (~5 MB) still in the CPU
        # cache; a FIFO would alternate interpreters and run each frame cache-cold.
        self._free: queue.LifoQueue = queue.LifoQueue()
        self.input_shape: tuple[int, ...] = ()
        for _ in range(size):
            # model_path: the file is memory-mapped (no 6 MB read holding the GIL)
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            # allocate_tensors packs the weights for XNNPACK while holding the GIL (~10 ms);
            # serving threads run between the interpreters rather than waiting for all of them
            time.sleep(0.002)
            interpreter.allocate_tensors()
            time.sleep(0.002)
            (inp,) = interpreter.get_input_details()
            (out,) = interpreter.get_output_details()
            self.input_shape = tuple(int(d) for d in inp["shape"])
            self._free.put((interpreter, inp["index"], out["index"]))

    def predict(self, single: np.ndarray) -> np.ndarray:
        interpreter, inp, out = self._free.get()
        try:
            interpreter.set_tensor(inp, single[np.newaxis])
            interpreter.invoke()
            return interpreter.get_tensor(out)[0].copy()
        finally:
            self._free.put((interpreter, inp, out))

    def predict_many(self, inputs: Sequence[np.ndarray]) -> np.ndarray:
        """Each input through one borrowed interpreter, invoked at batch 1: a batch-N interpreter
        costs the same CPU per frame on this model (bench_cpu_batch) and a resize costs ~4 ms."""
        interpreter, inp, out = self._free.get()
        try:
            rows = []
            for single in inputs:
                interpreter.set_tensor(inp, single[np.newaxis])
                interpreter.invoke()
                rows.append(interpreter.get_tensor(out)[0].copy())
            return np.stack(rows)
        finally:
            self._free.put((interpreter, inp, out))


def _metadata(data_root: Path, version: str) -> tuple[dict[str, Any], PreprocessSpec, list[str]]:
    try:
        metadata = read_metadata(data_root, version)
    except (ValueError, OSError) as error:  # RegistryError and bad JSON are ValueErrors
        raise ModelLoadError(f"model {version}: {error}") from None
    try:
        spec = PreprocessSpec.model_validate(metadata["preprocess"])
        outputs = [str(name) for name in metadata["outputs"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ModelLoadError(f"model {version}: model.json lacks a valid preprocess/outputs: {error}") from None
    unknown = [name for name in outputs if name not in KNOWN_OUTPUTS]
    if not outputs or unknown:
        raise ModelLoadError(f"model {version}: outputs {outputs} must be a non-empty subset of {KNOWN_OUTPUTS}")
    return metadata, spec, outputs


def litert_file(folder: Path, metadata: dict, precision: str) -> tuple[Path, str]:
    """(path, precision) of the LiteRT file to serve: with int8, model.json's `files.tflite_int8`
    when declared and present, else the float32 `files.tflite` (versions exported before int8)."""
    files = metadata.get("files") or {}
    if precision == "int8":
        name = files.get("tflite_int8")
        if name and (folder / name).is_file():
            return folder / name, "int8"
        if name:
            log.warning("model %s: %s is declared but missing; serving the float32 file", folder.name, name)
    return folder / files.get("tflite", "model.tflite"), "float32"


def _load_litert(version: str, folder: Path, metadata: dict, spec: PreprocessSpec, outputs: list[str], settings):
    path, precision = litert_file(folder, metadata, settings.precision)
    if not path.is_file():
        raise ModelLoadError(f"model {version}: no LiteRT file {path}")
    if precision != settings.precision:
        log.info("model %s: serving %s (float32: the version has no int8 export)", version, path.name)
    else:
        log.info("model %s: serving %s (%s)", version, path.name, precision)
    try:
        pool = LiteRTPool(path, settings.interpreters, settings.num_threads)
    except (ValueError, RuntimeError) as error:
        raise ModelLoadError(f"model {version}: cannot load {path.name}: {error}") from None
    if pool.input_shape[1:] != spec.input_shape:
        raise ModelLoadError(
            f"model {version}: {path.name} takes input {pool.input_shape[1:]}, "
            f"its pre-processing makes {spec.input_shape}"
        )
    backend = f"litert-xnnpack-{precision}"
    return ServedModel(
        version, spec, outputs, backend, pool.predict, metadata=metadata, served_file=path, run_many=pool.predict_many
    )


def _load_tensorflow(version: str, folder: Path, metadata: dict, spec: PreprocessSpec, outputs: list[str], settings):
    import tensorflow as tf  # only on a TensorFlow host (INFERENCE_BACKEND=tensorflow)

    path = folder / metadata.get("files", {}).get("keras", "model.keras")
    if not path.is_file():
        raise ModelLoadError(f"model {version}: no Keras file {path}")
    try:
        keras_model = tf.keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a broken file
        raise ModelLoadError(f"model {version}: cannot load {path.name}: {error}") from None
    device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    call = tf.function(lambda batch: keras_model(batch, training=False), reduce_retracing=True)
    lock = threading.Lock()  # batches run one at a time; the batcher is the only caller

    def run_batch(batch: np.ndarray) -> np.ndarray:
        with lock:
            return np.asarray(call(tf.convert_to_tensor(batch)))

    batcher = DynamicBatcher(run_batch, settings.batch_max, settings.batch_wait_ms / 1000.0, f"batcher-{version}")
    return ServedModel(
        version,
        spec,
        outputs,
        f"tensorflow-{device}",
        batcher,
        batcher.close,
        metadata,
        run_many=batcher.run_many,
    )


def load_model(data_root: Path, version: str, settings: InferenceSettings) -> ServedModel:
    """Load and warm up `version`; raise ModelLoadError naming the problem."""
    metadata, spec, outputs = _metadata(data_root, version)
    folder = model_dir(data_root, version)
    loader = _load_tensorflow if settings.backend == "tensorflow" else _load_litert
    model = loader(version, folder, metadata, spec, outputs, settings)
    try:
        model.warm_up(settings.warmup_runs)
    except ModelLoadError:
        model.close()
        raise
    except Exception as error:
        model.close()
        raise ModelLoadError(f"model {version}: warm-up failed: {error}") from None
    return model
