"""The gRPC frame feed over real loopback gRPC: every frame, in order, with the driver's input."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import grpc
import pytest

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.health import wait_until_serving
from tensorkart_core.images import decode_frame
from tensorkart_core.ports import PORTS_FILE_ENV
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc, types_pb2
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.runner import Run
from tests.helpers import reported_address


@pytest.fixture(autouse=True)
def _ports_picked_and_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Feed and metrics on ports the server picks, reported to TENSORKART_PORTS_FILE."""
    monkeypatch.setenv("SIMULATOR_METRICS_PORT", "0")
    monkeypatch.setenv(PORTS_FILE_ENV, str(tmp_path / "ports.json"))
    monkeypatch.setenv("SIMULATOR_HOST", "127.0.0.1")
    monkeypatch.delenv("TENSORKART_TOKEN", raising=False)


def start_feed(
    track: str, max_seconds: float, realtime: bool = False
) -> tuple[Run, threading.Thread, list[str], dict, str]:
    """A headless run serving its frame feed, waiting for a subscriber: (run, thread, rendered picture
    hashes, result once it ends, feed address), once the feed answers health checks."""
    options = SimOptions(
        track=track,
        laps=0,
        max_seconds=max_seconds,
        headless=True,
        realtime=realtime,
        feed=True,
        wait_for_subscriber=True,
    )
    run, thread, rendered, result = start_run(options)
    address = reported_address(Path(os.environ[PORTS_FILE_ENV]))
    assert wait_until_serving(address, timeout=30)
    return run, thread, rendered, result, address


def start_run(options: SimOptions) -> tuple[Run, threading.Thread, list[str], dict]:
    rendered: list[str] = []
    result: dict = {}
    run = Run(options, on_frame=lambda _n, rgb: rendered.append(hashlib.sha256(rgb.tobytes()).hexdigest()))
    thread = threading.Thread(target=lambda: result.update(run.execute()), daemon=True)
    thread.start()
    return run, thread, rendered, result


def test_lockstep_feed_delivers_every_frame_in_order() -> None:
    _run, thread, rendered, result, address = start_feed("luigi", 2.0)
    with make_channel(address) as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        messages = list(stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=120))
    thread.join(60)
    assert not thread.is_alive()

    assert [m.frame.game_frame for m in messages] == list(range(61))  # frames 0..60, none lost, in order
    assert [m.frame.sequence for m in messages] == list(range(61))
    assert [m.finished for m in messages] == [False] * 60 + [True]
    assert all(m.frame.encoding == types_pb2.ENCODING_RAW_RGB for m in messages)
    assert all((m.frame.width, m.frame.height) == (640, 480) for m in messages)
    # Exactly the rendered pictures, and what the expert pressed (it holds A on the start straight).
    assert [hashlib.sha256(decode_frame(m.frame).tobytes()).hexdigest() for m in messages] == rendered
    assert messages[10].joystick.a
    assert -1.0 <= messages[10].joystick.x <= 1.0
    capture_times = [m.frame.capture_time_ns for m in messages]
    assert capture_times == sorted(capture_times)
    assert messages[-1].sim_seconds == pytest.approx(2.0)
    assert messages[-1].interventions == result["interventions"] == 0


def test_two_subscribers_each_get_every_frame() -> None:
    _run, thread, _rendered, _result, address = start_feed("twists", 1.0)
    got: dict[int, list[int]] = {0: [], 1: []}
    first_is_running = threading.Event()

    def subscribe(ident: int) -> None:
        if ident == 1:
            first_is_running.wait(30)
        with make_channel(address) as channel:
            stub = simulator_pb2_grpc.SimulatorStub(channel)
            for message in stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=120):
                got[ident].append(message.frame.game_frame)
                if len(got[ident]) == 5:
                    first_is_running.set()

    # The first subscriber starts the game; the second joins while it runs and sees every frame from then on.
    subscribers = [threading.Thread(target=subscribe, args=(i,)) for i in range(2)]
    for sub in subscribers:
        sub.start()
    for sub in subscribers:
        sub.join(60)
    thread.join(60)
    assert got[0] == list(range(31))
    assert got[1] and got[1][0] >= 5
    assert got[1] == list(range(got[1][0], 31))


def test_feed_server_has_health_and_refuses_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENSORKART_TOKEN", "s3cret")
    _run, thread, _rendered, _result, address = start_feed("luigi", 0.5)  # health answers without a token
    with make_channel(address, token="wrong") as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            list(stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=30, wait_for_ready=True))
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with make_channel(address, token="s3cret") as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        messages = list(stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=60))
    thread.join(60)
    assert [m.frame.game_frame for m in messages] == list(range(16))


def test_realtime_slow_subscriber_loses_frames_but_gets_the_end() -> None:
    run, thread, _rendered, _result, address = start_feed("luigi", 2.0, realtime=True)
    received = []
    with make_channel(address) as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        for message in stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=120):
            received.append(message)
            threading.Event().wait(0.1)  # a subscriber too slow for 30 frames/s
    thread.join(60)
    frames = [m.frame.game_frame for m in received]
    assert frames == sorted(set(frames))  # in order, never repeated
    assert received[-1].finished and frames[-1] == 60
    assert len(frames) < 61  # it fell behind and lost frames ...
    assert run.frames_rendered == 61  # ... while the game went on at its own pace
