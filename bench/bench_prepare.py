"""Images -> training tensors: TensorKart's `utils.py prepare` vs ours, measured in the same run.

theirs: the original loop re-created faithfully — skimage.io.imread + skimage.transform.resize
        per image into a preallocated uint8 array (which is also why its images come out black),
        then np.save.
ours:   tensorkart_trainer.prepare: parallel decode in worker processes, the shared
        PreprocessSpec (DEFAULT_SPEC: the OpenCV "pyramid" resize), written into a memory-mapped X.npy.
Keys: tensorkart_prepare_img_per_s, prepare_img_per_s (wall clock, and their ratio), plus CPU
milliseconds per image of each (load-independent: ours uses every core, so on a machine busy
with other work the wall-clock ratio shrinks while the CPU ratio does not).
Frames are 640x480 PNGs of a 320x240 picture with every pixel doubled, as the N64 picture in
the emulator window (and the practice track's renderer) looks.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.trainer.tinydata import make_dataset

FRAMES = int(os.environ.get("BENCH_PREPARE_FRAMES", "400"))
THEIRS_FRAMES = int(os.environ.get("BENCH_PREPARE_THEIRS_FRAMES", "120"))


def tensorkart_prepare(session: Path, data_root: Path, out: Path, limit: int) -> int:
    """TensorKart utils.py prepare(): load_sample + imread + resize into np.empty(uint8), np.save."""
    from skimage.io import imread
    from skimage.transform import resize

    image_paths = np.loadtxt(session / "data.csv", delimiter=",", dtype=str, usecols=(0,))[:limit]
    joystick_values = np.loadtxt(session / "data.csv", delimiter=",", usecols=(1, 2, 3, 4, 5))[:limit]
    X = np.empty(shape=(len(image_paths), 66, 200, 3), dtype=np.uint8)
    for idx, image_file in enumerate(image_paths):
        image = imread(str(data_root / image_file))
        vec = resize(image, (66, 200, 3))
        X[idx] = vec
    np.save(out / "X", X)
    np.save(out / "y", joystick_values)
    return len(image_paths)


def _cpu_seconds() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def run() -> dict[str, float]:
    from tensorkart_trainer.prepare import prepare

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        make_dataset(root, "bench", frames=FRAMES, noise=6, pixel=2)
        session = root / "samples" / "bench"
        out_theirs, out_ours = Path(tmp) / "theirs", Path(tmp) / "ours"
        out_theirs.mkdir()
        # Warm the page cache for both sides alike.
        for path in session.iterdir():
            path.read_bytes()
        started, cpu = time.perf_counter(), _cpu_seconds()
        n = tensorkart_prepare(session, root, out_theirs, THEIRS_FRAMES)
        theirs = n / (time.perf_counter() - started)
        theirs_cpu_ms = (_cpu_seconds() - cpu) / n * 1e3
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = prepare([session], out_ours, data_root=root)
        ours = result.frames / (time.perf_counter() - started)
        ours_cpu_ms = (_cpu_seconds() - cpu) / result.frames * 1e3
        black = float(np.load(out_theirs / "X.npy").max())
        assert black == 0.0, "the original prepare is expected to produce black images"
        assert np.load(out_ours / "X.npy", mmap_mode="r").std() > 10
    return {
        "tensorkart_prepare_img_per_s": round(theirs, 1),
        "prepare_img_per_s": round(ours, 1),
        "prepare_speedup": round(ours / theirs, 2),
        # CPU time per image (this process and its workers): what the two cost regardless of machine load.
        "tensorkart_prepare_cpu_ms_per_img": round(theirs_cpu_ms, 2),
        "prepare_cpu_ms_per_img": round(ours_cpu_ms, 2),
    }


if __name__ == "__main__":
    print(run())
