"""TensorBoard event logs of a training job: where they live, the Keras callback that writes the
loss curves and the learning rate, and the image summary of a few input frames with their steering.

The log directory is derived from the settings and the job id alone, so the API (which never
imports TensorFlow) names it in the job's view without touching the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

FRAMES_TAG = "input_frames"


def log_dir(work_root: Path, job_id: str) -> Path:
    """The job's TensorBoard log directory: <work root>/jobs/<job id>/tensorboard."""
    return work_root / "jobs" / job_id / "tensorboard"


def describe(work_root: Path, job_id: str) -> dict[str, str]:
    """What the API shows: the log directory and the command that opens it."""
    directory = log_dir(work_root, job_id)
    return {"logdir": str(directory), "command": f"tensorboard --logdir {directory}"}


def callback(directory: Path) -> Any:
    """Keras' TensorBoard callback: per-epoch loss, metrics and learning rate (train/ and validation/ runs)."""
    import keras

    return keras.callbacks.TensorBoard(str(directory), update_freq="epoch", write_graph=False, profile_batch=0)


def write_input_frames(directory: Path, frames: list[np.ndarray], steering: list[float]) -> None:
    """One image summary of pre-processed input frames (uint8, H x W x 3); each frame's description
    names its steering label, and the summary's description lists them all in order."""
    if not frames:
        return
    import tensorflow as tf

    labels = ", ".join(f"#{i}: {s:+.3f}" for i, s in enumerate(steering))
    writer = tf.summary.create_file_writer(str(directory / "train"))
    with writer.as_default():
        tf.summary.image(
            FRAMES_TAG,
            np.stack(frames).astype(np.uint8),
            step=0,
            max_outputs=len(frames),
            description=f"input frames as the model sees them, with their steering (x): {labels}",
        )
    writer.close()


def log_input_frames(directory: Path, loader: Any, samples: list, count: int = 6) -> None:
    """A few pre-processed training frames (spread over `samples`) with their recorded steering."""
    picks = sorted({int(i) for i in np.linspace(0, len(samples) - 1, min(count, len(samples)))})
    frames, steering = [], []
    for i in picks:
        try:
            frames.append(loader.load(samples[i].path))
        except Exception:  # an illustration only; training reports unreadable images itself
            continue
        steering.append(float(samples[i].values[0]))  # values follow the csv: steering x first
    write_input_frames(directory, frames, steering)
