"""TensorKart's `utils.py prepare`, done right: sessions -> X.npy (N, H, W, 3 uint8) + y.npy (N, 5).

The original resized with skimage (floats 0..1) into a uint8 array, so every image became
black. Here each frame goes through the shared PreprocessSpec (real pixels, the same
crop/resize serving uses), decoded in parallel worker processes that write straight into
a memory-mapped X.npy (libspng decoding, see decode.py), so memory stays flat however many frames there are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tensorkart_core.datasets import session_rows
from tensorkart_core.preprocess import DEFAULT_SPEC, PreprocessSpec
from tensorkart_trainer.decode import read_rgb

CHUNK = 16


@dataclass
class Prepared:
    frames: int
    x_path: Path
    y_path: Path
    skipped: list[str]


def _load(path: str, spec: PreprocessSpec) -> np.ndarray:
    return spec.prepare(read_rgb(path))


def _work(args: tuple[str, int, list[str], str]) -> list[tuple[int, str]]:
    """Worker: prepare frames into X.npy rows [start, start+len); return (row, error) for failures."""
    x_path, start, paths, spec_json = args
    spec = PreprocessSpec.from_json(spec_json)
    out = np.load(x_path, mmap_mode="r+")
    failed = []
    for offset, path in enumerate(paths):
        try:
            out[start + offset] = _load(path, spec)
        except (OSError, ValueError, SyntaxError) as error:
            failed.append((start + offset, f"{path}: {error}"))
    out.flush()
    return failed


def prepare(
    sessions: list[Path],
    out_dir: Path,
    spec: PreprocessSpec = DEFAULT_SPEC,
    data_root: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Prepared:
    """Write out_dir/X.npy and out_dir/y.npy; frames that cannot be decoded are dropped and listed."""
    paths: list[str] = []
    values = []
    for session in sessions:
        p, v = session_rows(Path(session), data_root)
        paths += p
        values.append(v)
    y = np.concatenate(values) if values else np.zeros((0, 5), np.float32)
    out_dir.mkdir(parents=True, exist_ok=True)
    x_path, y_path = out_dir / "X.npy", out_dir / "y.npy"
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.uint8, shape=(len(paths), *spec.input_shape))
    del x
    jobs = [(str(x_path), i, paths[i : i + CHUNK], spec.to_json()) for i in range(0, len(paths), CHUNK)]
    failed: list[tuple[int, str]] = []
    workers = workers or os.cpu_count() or 1
    done = 0
    if workers == 1 or len(jobs) <= 1:
        results = map(_work, jobs)
        for job, result in zip(jobs, results, strict=True):
            failed += result
            done += len(job[2])
            if progress:
                progress(done, len(paths))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for job, result in zip(jobs, pool.map(_work, jobs), strict=True):
                failed += result
                done += len(job[2])
                if progress:
                    progress(done, len(paths))
    if failed:
        keep = np.setdiff1d(np.arange(len(paths)), [row for row, _ in failed])
        kept = np.load(x_path, mmap_mode="r")[keep]
        np.save(x_path, kept)
        y = y[keep]
    np.save(y_path, y)
    return Prepared(len(y), x_path, y_path, [message for _, message in failed])
