"""The training job: datasets -> streaming tf.data -> PilotNet -> a registered model version.

`run_job` is what the RQ worker executes (the API enqueues it by name, so the API never
imports TensorFlow). `train` does the work and can also be called directly.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tensorkart_core import datasets as ds_mod
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import ModelRegistry, new_version, read_metadata, write_metadata
from tensorkart_trainer import closed_loop, tensorboard_log
from tensorkart_trainer.fit_callbacks import job_callbacks
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


@dataclass
class Selection:
    """The frames a job trains and validates on, with what the scan found wrong."""

    train: list = field(default_factory=list)
    validation: list = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    bad_images: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.bad_rows + self.bad_images


def base_model_inputs(
    params: JobParams, data_root: Path, reporter: JobReporter
) -> tuple[PreprocessSpec, list[str], dict[str, Any] | None]:
    """(pre-processing, outputs, base model metadata): the job's own, or the fine-tuned model's."""
    if not params.base_model:
        return params.preprocess, list(params.outputs), None
    base_meta = read_metadata(data_root, params.base_model)
    outputs = list(base_meta["outputs"])
    reporter.log(f"fine-tuning {params.base_model}: its outputs {outputs} and pre-processing are kept")
    return PreprocessSpec.model_validate(base_meta["preprocess"]), outputs, base_meta


def select_frames(
    params: JobParams, datasets: list[str], data_root: Path, rng: np.random.Generator, reporter: JobReporter
) -> Selection:
    """Scan the datasets, pick train/validation frames, and apply the job's bad-data policy."""
    reporter.update(phase="scanning")
    reporter.log(f"scanning datasets: {', '.join(datasets)}")
    selection = Selection()
    for name in datasets:
        reporter.raise_if_canceled()
        scan = ds_mod.scan(data_root, name)
        selection.bad_rows += scan.bad_rows
        selection.bad_images += scan.bad_images
        tr, va = select_samples(params, scan, rng)
        selection.train += tr
        selection.validation += va
        selection.records.append(
            {
                "name": name,
                "rows": scan.rows,
                "frames": len(scan.samples),
                "train_frames": len(tr),
                "validation_frames": len(va),
                "content_sha256": ds_mod.content_hash(scan),
            }
        )
    problems = selection.problems
    if problems:
        message = (
            f"{len(selection.bad_rows)} malformed csv row(s), {len(selection.bad_images)} missing/invalid image(s)"
        )
        if params.on_bad_data == "fail":
            raise BadData(f"bad data ({message}): " + "; ".join(problems[:5]))
        reporter.log(f"skipping {message}: " + "; ".join(problems[:5]), level=logging.WARNING)
    reporter.update(
        bad_data={
            "bad_rows": len(selection.bad_rows),
            "bad_images": len(selection.bad_images),
            "problems": problems[:20],
        }
    )
    if not selection.train:
        raise BadData("no usable training frames after trimming, thinning and validation split")
    return selection


def input_pipelines(
    params: JobParams, spec: PreprocessSpec, outputs: list[str], selection: Selection, loader, cache: Path | None
) -> tuple[Any, Any]:
    """tf.data pipelines: the training frames (shuffled, augmented) and the validation frames (None without)."""
    from tensorkart_trainer.pipeline import build_dataset

    index = [OUTPUT_NAMES.index(o) for o in outputs]
    training_options = {
        "seed": params.seed,
        "shuffle_buffer": params.shuffle_buffer,
        "augmentation": params.augmentation,
        "steer_index": outputs.index("x") if "x" in outputs else None,
    }

    def pipeline(samples: list, training: bool) -> Any:
        labels = np.asarray([[s.values[i] for i in index] for s in samples], dtype=np.float32).reshape(-1, len(index))
        options = training_options if training else {}
        paths = [s.path for s in samples]
        return build_dataset(paths, labels, spec, loader, params.batch_size, training, cache_dir=cache, **options)

    return pipeline(selection.train, True), (pipeline(selection.validation, False) if selection.validation else None)


def compiled_model(
    params: JobParams, spec: PreprocessSpec, outputs: list[str], base_meta: dict | None, data_root: Path
):
    """PilotNet (new, or the base model's weights) compiled under the device strategy; (model, strategy)."""
    import keras

    from tensorkart_trainer.pilotnet import build_pilotnet

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
    return model, strategy


def fit_metrics(history, params: JobParams, monitor: str, selection: Selection, reporter: JobReporter) -> dict:
    """The job's metrics from the Keras history: last epoch's values, the best epoch, frame counts."""
    epochs_run = len(history.history.get("loss", []))
    if epochs_run < params.epochs:
        reporter.log(f"early stopping after epoch {epochs_run}: {monitor} stopped improving (best weights restored)")
    metrics = {k: float(v[-1]) for k, v in history.history.items() if v}
    if history.history.get(monitor):
        best = int(np.argmin(history.history[monitor]))
        metrics["best_epoch"] = best + 1
        metrics[f"best_{monitor}"] = float(history.history[monitor][best])
    metrics.update(
        epochs_run=epochs_run, train_frames=len(selection.train), validation_frames=len(selection.validation)
    )
    return metrics


def report_undecodable(loader, selection: Selection, reporter: JobReporter) -> None:
    """Add the frames the pipeline could not decode during training to the job's bad-data record."""
    if not loader.bad:
        return
    reporter.update(
        bad_data={
            "bad_rows": len(selection.bad_rows),
            "bad_images": len(selection.bad_images) + len(loader.bad),
            "problems": (selection.problems + [f"{p}: {e}" for p, e in loader.bad.items()])[:20],
        }
    )
    reporter.log(f"skipped {len(loader.bad)} image(s) that could not be decoded", level=logging.WARNING)


def export_version(
    model, params, spec, outputs, metrics, selection: Selection, loader, settings: TrainerSettings, reporter, job_id
) -> str:
    """Save and register the trained model as a new version (Keras, SavedModel, LiteRT float + int8)."""
    from tensorkart_trainer.export import save_model_version

    reporter.update(phase="exporting")
    version = new_version()
    reporter.log(f"exporting model version {version}")
    extra = {
        "job": {"id": job_id, "params": params.model_dump(mode="json")},
        "datasets": selection.records,
        "metrics": metrics,
        "base_model": params.base_model,
        "bad_data": reporter.meta.get("bad_data"),
        "evaluation": {"status": "pending" if params.evaluate else "off", "reason": None, "tracks": {}},
    }
    probes = probe_frames(loader, selection.validation or selection.train)
    saved = save_model_version(model, settings.data_root, version, spec, outputs, extra, probe_inputs=probes)
    quantization = saved["quantization"]
    reporter.log(
        f"int8 LiteRT export: max |output - float32 output| {quantization['int8_max_abs_diff']:.2g} "
        f"(mean {quantization['int8_mean_abs_diff']:.2g}) on {quantization['probe_frames']} probe frames"
    )
    reporter.update(model_version=version, metrics=metrics)
    reporter.save(force=True)
    return version


def evaluate_version(
    params: JobParams, version: str, policy: closed_loop.Policy, outputs: list[str], settings: TrainerSettings, reporter
) -> None:
    """Closed-loop evaluation of the new version on the practice track, in this process; the typed
    result goes into its model.json and the job's view."""
    reporter.update(phase="evaluating")
    evaluation = closed_loop.evaluate(
        policy, outputs, params.eval_tracks, params.eval_laps, settings.eval_max_seconds_per_lap, reporter.log
    )
    result = evaluation.model_dump(mode="json")
    metadata = read_metadata(settings.data_root, version)
    metadata["evaluation"] = result
    write_metadata(settings.data_root, version, metadata)
    reporter.update(evaluation=result)


def promote_version(version: str, settings: TrainerSettings, reporter: JobReporter) -> None:
    import redis

    registry = ModelRegistry(settings.data_root, redis.Redis.from_url(settings.redis_url, decode_responses=True))
    registry.promote(version)
    reporter.log(f"promoted {version}")


def train(
    params: JobParams,
    datasets: list[str],
    settings: TrainerSettings,
    reporter: JobReporter,
    job_id: str,
) -> dict[str, Any]:
    """Train, export and register a model version; returns {"model_version", "metrics"}."""
    work = settings.work_root / "jobs" / job_id
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)
    spec, outputs, base_meta = base_model_inputs(params, settings.data_root, reporter)
    selection = select_frames(params, datasets, settings.data_root, rng, reporter)

    reporter.raise_if_canceled()
    bound_malloc()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from tensorkart_trainer.pipeline import FrameLoader

    keras.utils.set_random_seed(params.seed)
    loader = FrameLoader(spec, fail_on_bad=params.on_bad_data == "fail")
    train_ds, val_ds = input_pipelines(
        params, spec, outputs, selection, loader, (work / "cache") if params.cache else None
    )
    model, strategy = compiled_model(params, spec, outputs, base_meta, settings.data_root)

    steps = math.ceil(len(selection.train) / params.batch_size)
    monitor = "val_loss" if val_ds is not None else "loss"
    logs = tensorboard_log.log_dir(settings.work_root, job_id)
    tensorboard_log.log_input_frames(logs, loader, selection.train)
    callbacks = job_callbacks(reporter, params, steps, work / "checkpoint.keras", logs, monitor)
    reporter.update(phase="training")
    reporter.log(
        f"training PilotNet ({', '.join(outputs)}) on {len(selection.train)} frames, validating on "
        f"{len(selection.validation)}; {params.epochs} epoch(s) of {steps} step(s), strategy "
        f"{_describe_strategy(strategy)}, devices {[d.name for d in tf.config.list_logical_devices()]}; "
        f"TensorBoard: tensorboard --logdir {logs}"
    )
    history = model.fit(train_ds, validation_data=val_ds, epochs=params.epochs, callbacks=callbacks, verbose=0)
    report_undecodable(loader, selection, reporter)
    if reporter.cancel_requested():
        raise JobCanceled("canceled through the API")
    metrics = fit_metrics(history, params, monitor, selection, reporter)

    version = export_version(model, params, spec, outputs, metrics, selection, loader, settings, reporter, job_id)
    if params.evaluate:
        evaluate_version(params, version, closed_loop.keras_policy(model, spec), outputs, settings, reporter)
    if params.promote:
        promote_version(version, settings, reporter)
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
