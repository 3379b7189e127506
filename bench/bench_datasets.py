"""Dataset library benchmark on a 300-frame 640x480 recording (tensorkart_core.datasets).

The dataset is written as the recorder writes one (PNG, data.csv, session.json with per-frame
capture times at ~30 Hz with jitter and two interventions), then timed through the same calls
the CLI and the trainer's REST API make:

- LeRobot v3 export (frames resampled onto 30 fps, H.264 per episode) and import back, frames/s;
- Rerun `.rrd` export (frames as stored, series, events), frames/s;
- `datasets movie` (MP4 with the steering drawn), frames/s;
- soft delete of a 50-frame range, its restore, and the timeline (all 300 frames), ms each
  (median of 5; each delete is undone by the restore, so every round starts from the same files).
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

FRAMES = 300
WIDTH, HEIGHT = 640, 480
ROUNDS = 5


def picture(index: int) -> np.ndarray:
    """A frame with structure (a road band that sways, noise): compresses like a game picture, not like a flat one."""
    rng = np.random.default_rng(index)
    rgb = np.kron(rng.integers(0, 256, (HEIGHT // 16, WIDTH // 16, 3), dtype=np.uint8), np.ones((16, 16, 1), np.uint8))
    centre = WIDTH // 2 + int(120 * np.sin(index / 20))
    rgb[HEIGHT // 2 :, max(0, centre - 80) : centre + 80] = (90, 90, 90)
    return rgb


def make_dataset(data_root: Path, name: str) -> None:
    folder = data_root / "samples" / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines, times, t = [], [], 0.0
    for index in range(FRAMES):
        Image.fromarray(picture(index)).save(folder / f"img_{index}.png", compress_level=1)
        x = round(float(np.sin(index / 15)), 4)
        lines.append(f"samples/{name}/img_{index}.png,{x},0.0,1,0,{index % 2}\n")
        times.append(round(t, 6))
        t += 1 / 30 + float(rng.uniform(-0.004, 0.004))
    (folder / "data.csv").write_text("".join(lines))
    session = {"name": name, "rate_hz": 30.0, "frame_times": times, "interventions": [[40, 60], [200, 230]]}
    (folder / "session.json").write_text(json.dumps(session))


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def run() -> dict[str, float]:
    from tensorkart_core import datasets as ds
    from tensorkart_core.datasets.export.lerobot import export_lerobot, import_lerobot
    from tensorkart_core.datasets.export.movie import movie
    from tensorkart_core.datasets.export.rerun_rrd import export_rerun

    workdir = Path(tempfile.mkdtemp(prefix="bench-datasets-"))
    try:
        data_root = workdir / "data"
        make_dataset(data_root, "bench")
        seconds, info = timed(export_lerobot, data_root, ["bench"], workdir / "lerobot")
        exported = int(info["total_frames"])
        lerobot_export = per_second(exported, seconds)
        seconds, names = timed(import_lerobot, data_root, workdir / "lerobot", "back")
        imported = sum(len(ds.read_rows(data_root / "samples" / n / "data.csv")[0]) for n in names)
        lerobot_import = per_second(imported, seconds)
        seconds, _ = timed(export_rerun, data_root, ["bench"], workdir / "bench.rrd")
        rerun_export = per_second(FRAMES, seconds)
        seconds, written = timed(movie, data_root, "bench", workdir / "bench.mp4")
        movie_fps = per_second(int(written), seconds)

        deletes, restores, timelines = [], [], []
        for _ in range(ROUNDS):
            deletes.append(timed(ds.delete_range, data_root, "bench", 100, 149)[0])
            timelines.append(timed(ds.timeline, data_root, "bench")[0])
            restores.append(timed(ds.restore_range, data_root, "bench", 100, 149)[0])
        assert len(ds.read_rows(data_root / "samples/bench/data.csv")[0]) == FRAMES
        result = {
            "datasets_lerobot_export_fps": lerobot_export,
            "datasets_lerobot_import_fps": lerobot_import,
            "datasets_rerun_export_fps": rerun_export,
            "datasets_movie_fps": movie_fps,
            "datasets_delete_ms": round(1000 * statistics.median(deletes), 2),
            "datasets_restore_ms": round(1000 * statistics.median(restores), 2),
            "datasets_timeline_ms": round(1000 * statistics.median(timelines), 2),
        }
        print(f"{FRAMES} frames {WIDTH}x{HEIGHT}; LeRobot export wrote {exported}, import read {imported}", flush=True)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(run()))
