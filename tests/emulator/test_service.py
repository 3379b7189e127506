"""The emulator service (python -m tensorkart_emulator run) as a real process: clear exits on bad input,
and, with a ROM, the practice track's frame feed (tensorkart.v1.Simulator/StreamFrames) over real gRPC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np

from tensorkart_core.images import decode_frame
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc


def _run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {"EMULATOR_CONFIG_DIR": str(tmp_path / "m64p"), "EMULATOR_PORT": "0", "EMULATOR_METRICS_PORT": "0"}
    return subprocess.run(
        [sys.executable, "-m", "tensorkart_emulator", "run"],
        env={**base, **env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_service_exits_2_naming_the_bad_rom_or_savestate(tmp_path: Path) -> None:
    missing = _run({}, tmp_path)
    assert missing.returncode == 2 and "no ROM given" in missing.stderr
    junk = tmp_path / "junk.z64"
    junk.write_bytes(b"\0" * 8192)
    wrong = _run({"EMULATOR_ROM": str(junk)}, tmp_path)
    assert wrong.returncode == 2 and "junk.z64" in wrong.stderr and "not an N64 image" in wrong.stderr
    state = _run({"EMULATOR_ROM": str(junk), "EMULATOR_STATE": str(tmp_path / "none.st")}, tmp_path)
    assert state.returncode == 2 and "none.st: no such file" in state.stderr
    table = _run({"EMULATOR_ROM": str(junk), "EMULATOR_GAME": "nosuchgame"}, tmp_path)
    assert table.returncode == 2 and "game table nosuchgame" in table.stderr


def _stream(address: str) -> list[simulator_pb2.SimFrame]:
    with grpc.insecure_channel(address) as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        return list(stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=60))


def test_feed_serves_every_frame_in_lockstep(start_emulator) -> None:
    service, address = start_emulator(EMULATOR_MAX_FRAMES="60")
    try:
        messages = _stream(address)
    finally:
        code = service.terminate()
    frames = [m for m in messages if m.frame.width]
    assert [m.frame.game_frame for m in frames] == list(
        range(frames[0].frame.game_frame, frames[0].frame.game_frame + 60)
    )
    assert messages[-1].finished and not messages[-1].frame.width
    picture = decode_frame(frames[-1].frame)
    assert picture.shape == (480, 640, 3) and np.ptp(picture) > 0
    assert code == 0, service.log()


def test_feed_stops_cleanly_on_sigterm(start_emulator) -> None:
    service, address = start_emulator(EMULATOR_LOCKSTEP="false")
    with grpc.insecure_channel(address) as channel:
        stream = simulator_pb2_grpc.SimulatorStub(channel).StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=60)
        first = [next(stream) for _ in range(10)]
        assert service.terminate() == 0, service.log()
        rest = list(stream)
    assert all(m.frame.width == 640 for m in first)
    assert rest and rest[-1].finished
    assert "Rom closed" in service.log()


def test_a_game_table_for_another_game_is_refused(test_rom, x_display, tmp_path: Path) -> None:
    refused = _run({"EMULATOR_ROM": str(test_rom), "EMULATOR_GAME": "mk64", "DISPLAY": x_display}, tmp_path)
    assert refused.returncode == 2
    assert "game table for Mario Kart 64 (USA) (MARIOKART64) does not fit this ROM" in refused.stderr
