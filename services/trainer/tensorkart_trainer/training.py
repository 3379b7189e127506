"""The training job: datasets -> streaming tf.data -> PilotNet -> a registered model version.

`run_job` is what the RQ worker executes (the API enqueues it by name, so the API never
imports TensorFlow). `train` does the work and can also be called directly.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import ModelRegistry, new_version, read_metadata, write_metadata
from tensorkart_trainer import datasets as ds_mod
from tensorkart_trainer.evaluation import evaluate
from tensorkart_trainer.memory import bound_malloc
from tensorkart_trainer.params import JobParams
from tensorkart_trainer.pilotnet import OUTPUT_NAMES
from tensorkart_trainer.progress import JobCanceled, JobReporter
from tensorkart_trainer.settings import TrainerSettings

log = logging.getLogger("tensorkart.trainer.training")


class BadData(ValueError):
    """The datasets hold malformed rows or unreadable images and the job was told to fail on them."""


def euclidean_loss(y_true, y_pred):
    """TensorKart's customized_loss('euclidean'): L2 distance per sample (epsilon keeps the gradient finite)."""
    import keras

    return keras.ops.sqrt(keras.ops.sum(keras.ops.square(y_pred - y_true), axis=-1) + 1e-12)


def select_samples(params: JobParams, scan: ds_mod.DatasetScan, rng: np.random.Generator) -> tuple[list, list]:
    """Trim, thin straight driving, split off the last frames for validation: (train, validation)."""
    samples = scan.samples
    end = len(samples) - params.trim_end
    samples = samples[params.trim_start : max(params.trim_start, end)]
    if params.thin_straight > 0:
        keep = [abs(s.values[0]) >= params.straight_threshold or rng.random() >= params.thin_straight for s in samples]
        samples = [s for s, k in zip(samples, keep, strict=True) if k]
    n_val = round(len(samples) * params.validation_split)
    if params.validation_split > 0 and len(samples) >= 2:
        n_val = max(1, n_val)
    return samples[: len(samples) - n_val], samples[len(samples) - n_val :]


class _Progress:
    """Keras callback factory kept separate so this module imports without TensorFlow."""

    @staticmethod
    def make(reporter: JobReporter, epochs: int, steps: int, checkpoint: Path, initial_epoch: int = 0):
        import keras

        class ProgressCallback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.started = time.monotonic()
                self.done_steps = 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

            def on_train_batch_end(self, batch, logs=None):
                self.done_steps += 1
                total = epochs * steps
                fraction = min(1.0, self.done_steps / total) if total else 0.0
                elapsed = time.monotonic() - self.started
                eta = elapsed / fraction - elapsed if fraction > 0 else None
                reporter.update(
                    progress={
                        "epoch": self.epoch + 1,
                        "epochs": epochs,
                        "step": batch + 1,
                        "steps": steps,
                        "fraction": round(fraction, 4),
                        "loss": float((logs or {}).get("loss", float("nan"))),
                    },
                    eta_s=round(eta, 1) if eta is not None else None,
                )
                reporter.save()
                if reporter.cancel_requested():
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                entry = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
                history = [*reporter.meta.get("history", []), entry]
                reporter.update(history=history)
                self.model.save(checkpoint)
                reporter.log(
                    f"epoch {epoch + 1}/{epochs}: "
                    + ", ".join(f"{k} {v:.5f}" for k, v in entry.items() if k != "epoch")
                    + " (checkpoint saved)"
                )

        return ProgressCallback()


def _describe_strategy(strategy) -> str:
    """How training is spread, in words (not TensorFlow's private class names)."""
    replicas = int(getattr(strategy, "num_replicas_in_sync", 1))
    return f"mirrored over {replicas} GPUs" if replicas > 1 else "on one device"


def _strategy():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def probe_frames(loader, samples: list, count: int = 32) -> np.ndarray | None:
    """Up to `count` frames spread evenly over `samples`, as model inputs: the real frames on which
    the int8 export is measured against the float one. Unreadable frames are left out."""
    if not samples:
        return None
    picks = sorted({int(i) for i in np.linspace(0, len(samples) - 1, min(count, len(samples)))})
    frames = []
    for i in picks:
        try:
            frames.append(loader.spec.to_model_input(loader.load(samples[i].path)))
        except Exception:  # a probe frame is optional; training already reported bad images
            continue
    return np.stack(frames) if frames else None


def train(
    params: JobParams,
    datasets: list[str],
    settings: TrainerSettings,
    reporter: JobReporter,
    job_id: str,
) -> dict[str, Any]:
    """Train, export and register a model version; returns {"model_version", "metrics", ...}."""
    data_root = settings.data_root
    work = settings.work_root / "jobs" / job_id
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)

    spec, outputs = params.preprocess, list(params.outputs)
    base_meta = None
    if params.base_model:
        base_meta = read_metadata(data_root, params.base_model)
        spec = PreprocessSpec.model_validate(base_meta["preprocess"])
        outputs = list(base_meta["outputs"])
        reporter.log(f"fine-tuning {params.base_model}: its outputs {outputs} and pre-processing are kept")

    reporter.update(phase="scanning")
    reporter.log(f"scanning datasets: {', '.join(datasets)}")
    train_samples, val_samples, dataset_records = [], [], []
    bad_rows, bad_images = [], []
    for name in datasets:
        reporter.raise_if_canceled()
        scan = ds_mod.scan(data_root, name)
        bad_rows += scan.bad_rows
        bad_images += scan.bad_images
        tr, va = select_samples(params, scan, rng)
        train_samples += tr
        val_samples += va
        dataset_records.append(
            {
                "name": name,
                "rows": scan.rows,
                "frames": len(scan.samples),
                "train_frames": len(tr),
                "validation_frames": len(va),
                "content_sha256": ds_mod.content_hash(scan),
            }
        )
    problems = bad_rows + bad_images
    if problems:
        message = f"{len(bad_rows)} malformed csv row(s), {len(bad_images)} missing/invalid image(s)"
        if params.on_bad_data == "fail":
            raise BadData(f"bad data ({message}): " + "; ".join(problems[:5]))
        reporter.log(f"skipping {message}: " + "; ".join(problems[:5]), level=logging.WARNING)
    reporter.update(bad_data={"bad_rows": len(bad_rows), "bad_images": len(bad_images), "problems": problems[:20]})
    if not train_samples:
        raise BadData("no usable training frames after trimming, thinning and validation split")

    reporter.raise_if_canceled()
    bound_malloc()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from tensorkart_trainer.export import save_model_version
    from tensorkart_trainer.pilotnet import build_pilotnet
    from tensorkart_trainer.pipeline import FrameLoader, build_dataset

    keras.utils.set_random_seed(params.seed)
    index = [OUTPUT_NAMES.index(o) for o in outputs]
    steer_index = outputs.index("x") if "x" in outputs else None

    def labels(samples: list) -> np.ndarray:
        return np.asarray([[s.values[i] for i in index] for s in samples], dtype=np.float32).reshape(-1, len(index))

    loader = FrameLoader(spec, fail_on_bad=params.on_bad_data == "fail")
    cache = (work / "cache") if params.cache else None
    train_ds = build_dataset(
        [s.path for s in train_samples],
        labels(train_samples),
        spec,
        loader,
        params.batch_size,
        training=True,
        seed=params.seed,
        shuffle_buffer=params.shuffle_buffer,
        cache_dir=cache,
        augmentation=params.augmentation,
        steer_index=steer_index,
    )
    val_ds = None
    if val_samples:
        val_ds = build_dataset(
            [s.path for s in val_samples], labels(val_samples), spec, loader, params.batch_size, False, cache_dir=cache
        )

    strategy = _strategy()
    with strategy.scope():
        if base_meta is not None:
            model = keras.models.load_model(
                data_root / "models" / params.base_model / base_meta["files"]["keras"], compile=False
            )
        else:
            model = build_pilotnet(len(outputs), spec.input_shape, params.keep_prob)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate),
            loss=euclidean_loss if params.loss == "euclidean" else "mse",
            metrics=["mae"],
        )

    steps = math.ceil(len(train_samples) / params.batch_size)
    checkpoint = work / "checkpoint.keras"
    monitor = "val_loss" if val_ds is not None else "loss"
    callbacks = [_Progress.make(reporter, params.epochs, steps, checkpoint)]
    if params.early_stopping_patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=params.early_stopping_patience, restore_best_weights=True
            )
        )
    reporter.update(phase="training")
    reporter.log(
        f"training PilotNet ({', '.join(outputs)}) on {len(train_samples)} frames, validating on {len(val_samples)}; "
        f"{params.epochs} epoch(s) of {steps} step(s), {_describe_strategy(strategy)}, "
        f"devices {[d.name for d in tf.config.list_logical_devices()]}"
    )
    history = model.fit(train_ds, validation_data=val_ds, epochs=params.epochs, callbacks=callbacks, verbose=0)
    if loader.bad:
        reporter.update(
            bad_data={
                "bad_rows": len(bad_rows),
                "bad_images": len(bad_images) + len(loader.bad),
                "problems": (problems + [f"{p}: {e}" for p, e in loader.bad.items()])[:20],
            }
        )
        reporter.log(f"skipped {len(loader.bad)} image(s) that could not be decoded", level=logging.WARNING)
    if reporter.cancel_requested():
        raise JobCanceled("canceled through the API")

    epochs_run = len(history.history.get("loss", []))
    if epochs_run < params.epochs:
        reporter.log(f"early stopping after epoch {epochs_run}: {monitor} stopped improving (best weights restored)")
    metrics = {k: float(v[-1]) for k, v in history.history.items() if v}
    if history.history.get(monitor):
        best = int(np.argmin(history.history[monitor]))
        metrics["best_epoch"] = best + 1
        metrics[f"best_{monitor}"] = float(history.history[monitor][best])
    metrics.update(epochs_run=epochs_run, train_frames=len(train_samples), validation_frames=len(val_samples))

    reporter.update(phase="exporting")
    version = new_version()
    reporter.log(f"exporting model version {version}")
    job_record = {"id": job_id, "params": params.model_dump(mode="json")}
    extra = {
        "job": job_record,
        "datasets": dataset_records,
        "metrics": metrics,
        "base_model": params.base_model,
        "bad_data": reporter.meta.get("bad_data"),
        "evaluation": {"status": "pending" if params.evaluate else "off", "reason": None, "tracks": {}},
    }
    probes = probe_frames(loader, val_samples or train_samples)
    saved = save_model_version(model, data_root, version, spec, outputs, extra, probe_inputs=probes)
    quantization = saved["quantization"]
    reporter.log(
        f"int8 LiteRT export: max |output - float32 output| {quantization['int8_max_abs_diff']:.2g} "
        f"(mean {quantization['int8_mean_abs_diff']:.2g}) on {quantization['probe_frames']} probe frames"
    )
    reporter.update(model_version=version, metrics=metrics)
    reporter.save(force=True)

    if params.evaluate:
        reporter.update(phase="evaluating")
        result = evaluate(
            settings.eval_command,
            version,
            params.eval_tracks,
            params.eval_laps,
            settings.eval_timeout_s,
            reporter.log,
        )
        metadata = read_metadata(data_root, version)
        metadata["evaluation"] = result
        write_metadata(data_root, version, metadata)
        reporter.update(evaluation=result)
    if params.promote:
        import redis

        registry = ModelRegistry(data_root, redis.Redis.from_url(settings.redis_url, decode_responses=True))
        registry.promote(version)
        reporter.log(f"promoted {version}")
    shutil.rmtree(work / "cache", ignore_errors=True)
    return {"model_version": version, "metrics": metrics}


def run_job(params: dict[str, Any], datasets: list[str]) -> dict[str, Any]:
    """The RQ job function: progress, heartbeat and cancel around `train`."""
    from rq import get_current_job

    from tensorkart_core.settings import load_settings

    settings = load_settings(TrainerSettings)
    job = get_current_job()
    reporter = JobReporter(
        job,
        job.connection if job else None,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        heartbeat_timeout_s=settings.heartbeat_timeout_s,
    )
    reporter.start()
    reporter.update(state="running", phase="starting")
    reporter.update(pid=os.getpid())
    reporter.log(f"job started on pid {os.getpid()}")
    job_id = job.id if job else f"local-{os.getpid()}"
    try:
        reporter.raise_if_canceled()
        result = train(JobParams.model_validate(params), datasets, settings, reporter, job_id)
    except JobCanceled as error:
        reporter.update(state="canceled", phase="canceled")
        reporter.log(f"job canceled ({error}) at epoch {reporter.meta.get('progress', {}).get('epoch', 0)}")
        return {"state": "canceled"}
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        reporter.update(state="failed", phase="failed", error=reason)
        reporter.log(f"job failed: {reason}", level=logging.ERROR)
        raise
    finally:
        reporter.stop()
    progress = dict(reporter.meta.get("progress") or {}, fraction=1.0)
    reporter.update(state="finished", phase="finished", eta_s=0, progress=progress)
    reporter.log(f"job finished: model version {result['model_version']}")
    reporter.save(force=True)
    return result
