"""`python -m tensorkart_simulator run` as a real process: real-time feed, clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc
from tests.helpers import start_module


def test_realtime_run_streams_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    service = start_module(
        "tensorkart_simulator",
        {"SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1", "TENSORKART_TOKEN": ""},
        tmp_path / "sim.log",
        grpc=True,
        args=["run", "--headless", "--realtime", "--laps", "0", "--feed", "--report"],
    )
    address = service.address("grpc")
    try:
        with make_channel(address) as channel:
            stub = simulator_pb2_grpc.SimulatorStub(channel)
            stream = stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=60)
            first = [next(stream) for _ in range(10)]
            frames = [m.frame.game_frame for m in first]
            assert frames == sorted(frames) and len(set(frames)) == 10
            service.process.send_signal(signal.SIGTERM)
            rest = list(stream)
        assert rest and rest[-1].finished
        assert all(not m.finished for m in first + rest[:-1])
        assert service.process.wait(30) == 0
    finally:
        service.terminate()
    log = service.log()
    report = json.loads([line for line in log.splitlines() if line.startswith("{")][-1])
    assert report["driver"] == "expert"
    assert report["sim_seconds"] > 0
