"""Practice track -> capture -> recorder at 30 Hz: nothing dropped, every PNG is the rendered frame."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from tensorkart_capture.runner import RecordOptions, record
from tensorkart_core.dataset import read_rows, validate_dataset
from tests.recorder.support import start_recorder


def digest(rgb: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(rgb).tobytes(), digest_size=16).hexdigest()


def test_sim_feed_recorded_losslessly_and_pixel_identical(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    simulator = start_service(
        "tensorkart_simulator",
        {"SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1"},
        grpc=True,
        args=[
            "run",
            "--headless",
            "--realtime",
            "--driver",
            "expert",
            "--track",
            "luigi",
            "--feed",
            "--wait-for-subscriber",
            "--max-seconds",
            "5",
        ],
    )
    received: list[tuple[int, str, float, bool]] = []

    def keep(frame) -> None:
        received.append((frame.game_frame, digest(frame.rgb), frame.joystick.x, frame.joystick.a))

    options = RecordOptions(
        name="practice", source="sim", sim_address=simulator.address("grpc"), recorder_addr=recorder.address
    )
    result = record(options, on_frame=keep)

    assert result.frames == len(received) >= 140  # 5 simulated seconds at 30 Hz
    assert result.totals["dropped"] == 0 and result.totals["rejected"] == 0
    assert result.totals["written"] == len(received)
    assert result.summary["frames_dropped"] == 0
    game_frames = [g for g, *_ in received]
    assert game_frames == list(range(game_frames[0], game_frames[0] + len(game_frames))), "the feed skipped frames"

    rows, _ = read_rows(data_root / "samples" / "practice" / "data.csv")
    assert len(rows) == len(received)
    for row, (_game_frame, expected, x, a) in zip(rows, received, strict=True):
        stored = np.asarray(Image.open(data_root / row.image))
        assert stored.shape == (480, 640, 3)
        assert digest(stored) == expected, f"{row.image} is not the frame the simulator rendered"
        assert abs(row.x - x) < 1e-5 and row.a == int(a)
    assert validate_dataset(data_root, "practice").valid
