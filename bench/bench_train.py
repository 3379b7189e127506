"""Training throughput, in-memory arrays vs streaming from disk, and a job's peak RSS as data grows 4x.

train_samples_per_s_memory: TensorKart's way — every frame pre-processed into one in-RAM array,
    model.fit(X, y) — with the same PilotNet, batch size and frames as the stream run.
train_samples_per_s_stream: our tf.data pipeline from PNGs on disk (parallel decode, the shared
    spec, on-disk cache of pre-processed tensors after the first epoch, shuffle buffer, prefetch).
Both skip their first (warm-up) epoch; the two are measured alternately and the best epoch
rate of each counts, so load from other processes hits both alike.
train_peak_rss_mb_1x / _4x: peak RSS of a full training job (tensorkart_trainer.training.train,
    in a fresh process) on a dataset and on one 4x as large; train_fit_peak_rss_mb_* is the
    same jobs' peak up to the end of training (the LiteRT export that follows is the job's peak).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.trainer.tinydata import make_dataset

FRAMES = int(os.environ.get("BENCH_TRAIN_FRAMES", "300"))
RSS_FRAMES = int(os.environ.get("BENCH_TRAIN_RSS_FRAMES", "250"))
BATCH = 50
ROUNDS = 2
EPOCHS_PER_ROUND = 3

RSS_CHILD = """
import json, os, sys
from pathlib import Path
os.environ["TENSORKART_DATA"] = sys.argv[1]
from tensorkart_trainer.params import JobParams
from tensorkart_trainer.progress import JobReporter
from tensorkart_trainer.settings import TrainerSettings
from tensorkart_trainer.training import train
params = JobParams(datasets=[sys.argv[2]], epochs=2, batch_size=50, evaluate=False, early_stopping_patience=0)


def hwm_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024.0


class Reporter(JobReporter):
    fit_peak = 0.0

    def log(self, message, level=20):
        if message.startswith("exporting"):  # training is over: the peak so far is the fit's
            Reporter.fit_peak = hwm_mb()
        super().log(message, level)


train(params, [sys.argv[2]], TrainerSettings(), Reporter(None, None), "bench-" + sys.argv[2])
print("RSS", hwm_mb(), Reporter.fit_peak)
"""


class _EpochTimer:
    @staticmethod
    def make():
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.times: list[float] = []

            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self.started)

        return Timer()


def _throughput(root: Path) -> tuple[float, float]:
    import keras

    from tensorkart_core import datasets
    from tensorkart_core.preprocess import DEFAULT_SPEC
    from tensorkart_trainer.decode import read_rgb
    from tensorkart_trainer.pilotnet import build_pilotnet
    from tensorkart_trainer.pipeline import FrameLoader, build_dataset

    samples = datasets.scan(root, "bench").samples
    paths = [s.path for s in samples]
    labels = np.asarray([[s.values[0], s.values[2]] for s in samples], np.float32)
    x_memory = DEFAULT_SPEC.to_model_input(np.stack([DEFAULT_SPEC.prepare(read_rgb(p)) for p in paths]))

    def model():
        keras.utils.set_random_seed(0)
        net = build_pilotnet(2, DEFAULT_SPEC.input_shape)
        net.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
        return net

    memory_net, stream_net = model(), model()
    cache = Path(tempfile.mkdtemp()) / "cache"
    stream = build_dataset(
        paths, labels, DEFAULT_SPEC, FrameLoader(DEFAULT_SPEC), BATCH, training=True, cache_dir=cache
    )
    memory_rates, stream_rates = [], []
    for round_ in range(ROUNDS):
        warm = 1 if round_ == 0 else 0
        timer = _EpochTimer.make()
        memory_net.fit(x_memory, labels, batch_size=BATCH, epochs=EPOCHS_PER_ROUND + warm, callbacks=[timer], verbose=0)
        memory_rates += [len(paths) / t for t in timer.times[warm:]]
        timer = _EpochTimer.make()
        stream_net.fit(stream, epochs=EPOCHS_PER_ROUND + warm, callbacks=[timer], verbose=0)
        stream_rates += [len(paths) / t for t in timer.times[warm:]]
    return max(memory_rates), max(stream_rates)


def _peak_rss(root: Path, name: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(root), name],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TRAINER_WORK_DIR": str(root / "work")},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RSS ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"training job for RSS failed: {done.stderr[-2000:]}")
    _, job_peak, fit_peak = lines[-1].split()
    return float(job_peak), float(fit_peak)


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        make_dataset(root, "bench", frames=FRAMES, noise=6, pixel=2)
        memory, stream = _throughput(root)
        make_dataset(root, "rss1x", frames=RSS_FRAMES, noise=6, pixel=2, seed=1)
        make_dataset(root, "rss4x", frames=RSS_FRAMES * 4, noise=6, pixel=2, seed=2)
        rss_1x, fit_1x = _peak_rss(root, "rss1x")
        rss_4x, fit_4x = _peak_rss(root, "rss4x")
    return {
        "train_samples_per_s_memory": round(memory, 1),
        "train_samples_per_s_stream": round(stream, 1),
        "train_stream_vs_memory": round(stream / memory, 3),
        "train_peak_rss_mb_1x": round(rss_1x, 1),
        "train_peak_rss_mb_4x": round(rss_4x, 1),
        "train_peak_rss_growth_4x": round(rss_4x / rss_1x - 1.0, 3),
        # The same jobs' peak up to the end of model.fit (before the LiteRT export, which is the job's peak).
        "train_fit_peak_rss_mb_1x": round(fit_1x, 1),
        "train_fit_peak_rss_mb_4x": round(fit_4x, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run()))
