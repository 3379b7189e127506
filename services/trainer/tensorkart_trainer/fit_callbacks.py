"""The Keras callbacks of a training job: progress, checkpoint and cancel through the job's reporter,
the TensorBoard log, early stopping. Keras is imported inside the functions, so importing this
module does not load TensorFlow."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tensorkart_trainer import tensorboard_log
from tensorkart_trainer.params import JobParams
from tensorkart_trainer.progress import JobReporter


def job_callbacks(
    reporter: JobReporter, params: JobParams, steps: int, checkpoint: Path, logs: Path, monitor: str
) -> list[Any]:
    """Progress (+ checkpoint, cancel), TensorBoard, and early stopping when the job asks for it."""
    import keras

    callbacks = [progress_callback(reporter, params.epochs, steps, checkpoint), tensorboard_log.callback(logs)]
    if params.early_stopping_patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=params.early_stopping_patience, restore_best_weights=True
            )
        )
    return callbacks


def progress_callback(reporter: JobReporter, epochs: int, steps: int, checkpoint: Path, initial_epoch: int = 0):
    """Progress and ETA per step, history and a checkpoint per epoch, stop when a cancel is requested."""
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
