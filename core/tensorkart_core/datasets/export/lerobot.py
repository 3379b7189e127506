"""Export datasets to the LeRobot dataset v3.0 layout, and import one back.

    meta/info.json                                    codebase_version v3.0, fps, features, path templates
    meta/stats.json                                   min/max/mean/std/count (+ quantiles) per feature
    meta/tasks.parquet                                task strings (pandas index) -> task_index
    meta/episodes/chunk-000/file-000.parquet          one row per episode: length, tasks, data/video locations
    data/chunk-000/file-000.parquet                   one row per frame: action[5], timestamp, indices
    videos/observation.image/chunk-000/file-NNN.mp4   one H.264 video per episode (file index = episode)

Features: `observation.image` (video, H x W x 3) and `action` (float32[5], names x, y, a, b, rb:
the TensorKart data.csv values). Every dataset's unbroken stretches of kept frames are episodes,
resampled onto one fps so timestamp = frame_index / fps exactly (see episodes.py). Paths, keys and
the episode columns follow lerobot's LeRobotDataset v3.0 (lerobot/datasets/utils.py: DEFAULT_DATA_PATH,
DEFAULT_VIDEO_PATH, DEFAULT_EPISODES_PATH, DEFAULT_FEATURES).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tensorkart_core.datasets.atomic import write_text
from tensorkart_core.datasets.export.episodes import OUTPUTS, Episode, ExportError, episodes_of
from tensorkart_core.datasets.export.video import even_size, read_mp4, video_info, write_mp4
from tensorkart_core.datasets.layout import validate_name
from tensorkart_core.datasets.rows import Row
from tensorkart_core.datasets.tools import write_dataset

CODEBASE_VERSION = "v3.0"
IMAGE_KEY = "observation.image"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
TASKS_PATH = "meta/tasks.parquet"
CHUNKS_SIZE = 1000
IMAGE_STATS_FRAMES = 200
QUANTILES = {"q01": 1, "q10": 10, "q50": 50, "q90": 90, "q99": 99}
SCALAR = {"shape": [1], "names": None}


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("pyarrow is not installed: pip install 'tensorkart-core[export]'") from None
    return pa, pq


def _rgb(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if size and rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(rgb)


def _stats(values: np.ndarray, quantiles: bool = False) -> dict[str, list]:
    stats = {
        "min": values.min(axis=0).tolist(),
        "max": values.max(axis=0).tolist(),
        "mean": values.mean(axis=0).tolist(),
        "std": values.std(axis=0).tolist(),
        "count": [len(values)],
    }
    if quantiles:
        stats.update({key: np.percentile(values, q, axis=0).tolist() for key, q in QUANTILES.items()})
    return stats


def _image_stats(samples: list[np.ndarray]) -> dict[str, list]:
    """Per channel over pixels scaled to [0, 1], shaped (3, 1, 1) as LeRobot keeps image stats."""
    pixels = np.stack(samples).reshape(-1, 3).astype(np.float64) / 255.0
    stats = _stats(pixels)
    return {k: ([[[v]] for v in stats[k]] if k != "count" else [len(samples)]) for k in stats}


def _tasks_table(pa, tasks: list[str]):
    """meta/tasks.parquet as pandas' DataFrame({'task_index': ...}, index=tasks).to_parquet() writes it."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "__index_level_0__": tasks})
    pandas_meta = {
        "index_columns": ["__index_level_0__"],
        "column_indexes": [],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": None,
                "field_name": "__index_level_0__",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.0",
    }
    return table.replace_schema_metadata({"pandas": json.dumps(pandas_meta)})


def export_lerobot(
    data_root: Path,
    names: list[str],
    out: Path,
    fps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write `names` as one LeRobot v3.0 dataset under `out` (which must be empty or absent); returns info.json."""
    pa, pq = _pyarrow()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty; choose a new folder")
    episodes: list[Episode] = []
    for name in names:
        episodes += episodes_of(data_root, name, fps or (episodes[0].fps if episodes else None))
    fps = episodes[0].fps
    first = _rgb(episodes[0].images[0], None)
    width, height = even_size(first.shape[1], first.shape[0])
    tasks = list(dict.fromkeys(e.task for e in episodes))
    total = sum(e.length for e in episodes)
    columns: dict[str, list] = {
        k: [] for k in ("action", "timestamp", "frame_index", "episode_index", "index", "task_index")
    }
    episode_rows: list[dict[str, Any]] = []
    image_samples: list[np.ndarray] = []
    sample_every = max(1, total // IMAGE_STATS_FRAMES)
    done = 0
    for number, episode in enumerate(episodes):
        start = len(columns["index"])

        def frames(episode: Episode = episode) -> Iterator[np.ndarray]:
            nonlocal done
            for path in episode.images:
                rgb = _rgb(path, (first.shape[1], first.shape[0]))[:height, :width]
                if done % sample_every == 0:
                    image_samples.append(rgb[::8, ::8])
                done += 1
                if progress:
                    progress(done, total)
                yield rgb

        write_mp4(out / VIDEO_PATH.format(video_key=IMAGE_KEY, chunk_index=0, file_index=number), frames(), fps)
        task_index = tasks.index(episode.task)
        for frame_index, values in enumerate(episode.values):
            columns["action"].append([float(v) for v in values])
            columns["timestamp"].append(frame_index / fps)
            columns["frame_index"].append(frame_index)
            columns["episode_index"].append(number)
            columns["index"].append(start + frame_index)
            columns["task_index"].append(task_index)
        actions = np.asarray(episode.values, dtype=np.float64)
        episode_rows.append(
            {
                "episode_index": number,
                "tasks": [episode.task],
                "length": episode.length,
                "data/chunk_index": 0,
                "data/file_index": 0,
                "dataset_from_index": start,
                "dataset_to_index": start + episode.length,
                f"videos/{IMAGE_KEY}/chunk_index": 0,
                f"videos/{IMAGE_KEY}/file_index": number,
                f"videos/{IMAGE_KEY}/from_timestamp": 0.0,
                f"videos/{IMAGE_KEY}/to_timestamp": episode.length / fps,
                "meta/episodes/chunk_index": 0,
                "meta/episodes/file_index": 0,
                "tensorkart/dataset": episode.dataset,
                "tensorkart/first_frame": episode.source_index[0],
                **{f"stats/action/{k}": v for k, v in _stats(actions).items()},
            }
        )
    data = pa.table(
        {
            "action": pa.array(columns["action"], pa.list_(pa.float32(), len(OUTPUTS))),
            "timestamp": pa.array(columns["timestamp"], pa.float32()),
            "frame_index": pa.array(columns["frame_index"], pa.int64()),
            "episode_index": pa.array(columns["episode_index"], pa.int64()),
            "index": pa.array(columns["index"], pa.int64()),
            "task_index": pa.array(columns["task_index"], pa.int64()),
        }
    )
    for relative, table in (
        (DATA_PATH.format(chunk_index=0, file_index=0), data),
        (EPISODES_PATH.format(chunk_index=0, file_index=0), pa.Table.from_pylist(episode_rows)),
        (TASKS_PATH, _tasks_table(pa, tasks)),
    ):
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out / relative)
    video = out / VIDEO_PATH.format(video_key=IMAGE_KEY, chunk_index=0, file_index=0)
    features = {
        IMAGE_KEY: {
            "dtype": "video",
            "shape": [height, width, 3],
            "names": ["height", "width", "channels"],
            "info": video_info(video),
        },
        "action": {"dtype": "float32", "shape": [len(OUTPUTS)], "names": list(OUTPUTS)},
        "timestamp": {"dtype": "float32", **SCALAR},
        "frame_index": {"dtype": "int64", **SCALAR},
        "episode_index": {"dtype": "int64", **SCALAR},
        "index": {"dtype": "int64", **SCALAR},
        "task_index": {"dtype": "int64", **SCALAR},
    }
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "n64_mario_kart",
        "total_episodes": len(episodes),
        "total_frames": total,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features,
    }
    scalars = {k: np.asarray(columns[k], dtype=np.float64).reshape(-1, 1) for k in columns if k != "action"}
    stats = {
        "action": _stats(np.asarray(columns["action"], dtype=np.float64), quantiles=True),
        IMAGE_KEY: _image_stats(image_samples),
        **{k: _stats(v) for k, v in scalars.items()},
    }
    write_text(out / "meta" / "stats.json", json.dumps(stats, indent=2) + "\n")
    write_text(out / "meta" / "info.json", json.dumps(info, indent=2) + "\n")
    return info


# -- import ---------------------------------------------------------------------------------------


def _action_columns(feature: dict[str, Any]) -> list[int | None]:
    """For each of x, y, a, b, rb: its position in the action vector (None: absent, recorded as 0)."""
    names = feature.get("names")
    if isinstance(names, dict):  # older layouts: {"motors": [...]}
        names = next(iter(names.values()), None)
    if isinstance(names, list) and "x" in names:
        return [names.index(n) if n in names else None for n in OUTPUTS]
    if list(feature.get("shape") or []) == [len(OUTPUTS)]:
        return list(range(len(OUTPUTS)))
    raise ExportError(
        f"the dataset's action {feature.get('names') or feature.get('shape')} does not map onto TensorKart's "
        "x, y, a, b, rb (need action names including 'x', or 5 values)"
    )


def import_lerobot(
    data_root: Path, folder: Path, prefix: str, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """Add every episode of a LeRobot v3 dataset as a TensorKart dataset (`prefix`, or `prefix-epN` when
    there are several); returns their names. x, y are clipped to [-1, 1]; buttons are 1 above 0.5."""
    pa, pq = _pyarrow()
    folder = Path(folder)
    validate_name(prefix)
    try:
        info = json.loads((folder / "meta" / "info.json").read_text())
    except (OSError, ValueError) as error:
        raise ExportError(f"{folder} is not a LeRobot dataset (meta/info.json: {error})") from None
    if not str(info.get("codebase_version", "")).startswith("v3"):
        raise ExportError(f"{folder}: LeRobot {info.get('codebase_version')} layout; only v3.x is imported")
    features = info.get("features") or {}
    videos = [k for k, f in features.items() if isinstance(f, dict) and f.get("dtype") == "video"]
    if not videos or "action" not in features:
        raise ExportError(f"{folder}: needs a video feature and an `action` feature (has {sorted(features)})")
    key = IMAGE_KEY if IMAGE_KEY in videos else videos[0]
    mapping = _action_columns(features["action"])
    fps = int(info["fps"])
    data = pa.concat_tables([pq.read_table(p) for p in sorted((folder / "data").glob("*/*.parquet"))]).to_pylist()
    meta = pa.concat_tables(
        [pq.read_table(p) for p in sorted((folder / "meta" / "episodes").glob("*/*.parquet"))]
    ).to_pylist()
    names = [prefix] if len(meta) == 1 else [f"{prefix}-ep{e['episode_index']}" for e in meta]
    for name in names:
        validate_name(name)
    total = len(data)
    done = 0
    for name, episode in zip(names, meta, strict=True):
        rows = sorted((r for r in data if r["episode_index"] == episode["episode_index"]), key=lambda r: r["index"])
        video = folder / info.get("video_path", VIDEO_PATH).format(
            video_key=key,
            chunk_index=episode[f"videos/{key}/chunk_index"],
            file_index=episode[f"videos/{key}/file_index"],
        )
        start = float(episode.get(f"videos/{key}/from_timestamp", 0.0))

        def items(rows: list[dict] = rows, video: Path = video, start: float = start) -> Iterator:
            nonlocal done
            decoded = read_mp4(video)
            current = next(decoded, None)
            for row in rows:
                wanted = start + float(row["timestamp"])
                while current is not None and current[0] < wanted - 0.5 / fps:
                    current = next(decoded, None)
                if current is None:
                    raise ExportError(f"{video}: no frame at {wanted:.3f} s (episode {row['episode_index']})")
                picture = current[1]

                def write(temp: Path, picture: np.ndarray = picture) -> None:
                    Image.fromarray(picture).save(temp, format="PNG", compress_level=1)

                action = row["action"]
                value = [float(action[i]) if i is not None else 0.0 for i in mapping]
                x, y = (max(-1.0, min(1.0, v)) for v in value[:2])
                buttons = [1 if v > 0.5 else 0 for v in value[2:]]
                done += 1
                if progress:
                    progress(done, total)
                yield write, Row("", x, y, *buttons)

        session = {
            "source": "lerobot",
            "rate_hz": fps,
            "imported_from": str(folder.resolve()),
            "task": episode.get("tasks"),
        }
        write_dataset(data_root, name, items(), len(rows), session)
    return names
