"""Random valid tracks: star-shaped loops around the origin, for tests and for variety.

`random_track_json(seed)` returns the JSON text of a track that passes validation (it retries
with the same generator until one does), driven counter-clockwise or clockwise at random.
"""

from __future__ import annotations

import json

import numpy as np

from tensorkart_simulator.track import TrackError, parse_track


def random_track_json(seed: int, attempts: int = 200) -> str:
    rng = np.random.default_rng(seed)
    for _ in range(attempts):
        count = int(rng.integers(7, 13))
        angles = np.sort((np.arange(count) + rng.uniform(-0.3, 0.3, count)) * (2 * np.pi / count))
        radius = float(rng.uniform(50, 80)) * (1.0 + rng.uniform(-0.3, 0.3, count))
        points = np.stack([np.cos(angles) * radius, np.sin(angles) * radius], axis=1).round(1)
        if rng.random() < 0.5:
            points = points[::-1]
        data = {"name": f"random-{seed}", "width": round(float(rng.uniform(10, 14)), 1), "points": points.tolist()}
        text = json.dumps(data)
        try:
            parse_track(text, f"random-{seed}")
        except TrackError:
            continue
        return text
    raise RuntimeError(f"no valid random track after {attempts} attempts (seed {seed})")
