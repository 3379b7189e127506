"""The controller driving the practice track in lock-step, the way the emulator would use it:
every game frame's input comes from the steering that answered that very frame."""

from __future__ import annotations

import queue
import threading

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import controller_pb2, simulator_pb2, simulator_pb2_grpc, types_pb2


def steering_x(frame: int) -> float:
    return ((frame * 7) % 21 - 10) / 10  # a different stick position most frames, over the full range


def test_lock_step_gives_each_frame_the_steering_that_answered_it(start_controller, start_service):
    controller = start_controller(mode="lock_step", lock_step_timeout_ms="20000", safety_timeout_ms="20000")
    args = ["run", "--headless", "--driver", "controller", "--lockstep", "--track", "luigi", "--max-seconds", "2"]
    args += ["--input-bot", f"http://127.0.0.1:{controller.http_port}", "--feed"]
    simulator = start_service(
        "tensorkart_simulator",
        {"SIMULATOR_HOST": "127.0.0.1", "SIMULATOR_METRICS_PORT": "0"},
        grpc=True,
        args=[*args, "--wait-for-subscriber", "--report"],
    )
    outbox: queue.Queue[types_pb2.Steering | None] = queue.Queue()
    pushed: list[controller_pb2.PushSummary] = []

    def stream():
        while (item := outbox.get()) is not None:
            yield item

    pusher = threading.Thread(target=lambda: pushed.append(controller.stub.PushSteering(stream(), timeout=120)))
    pusher.start()
    pressed: dict[int, float] = {}  # game frame -> stick x the game used for the frame before it
    feed_stub = simulator_pb2_grpc.SimulatorStub(make_channel(simulator.address("grpc")))
    try:
        for sim_frame in feed_stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=120):
            frame = sim_frame.frame
            pressed[frame.game_frame] = sim_frame.joystick.x
            if sim_frame.finished:
                break
            outbox.put(
                types_pb2.Steering(
                    frame_sequence=frame.sequence,
                    capture_time_ns=frame.capture_time_ns,
                    source=types_pb2.STEERING_SOURCE_MODEL,
                    joystick=types_pb2.Joystick(x=steering_x(frame.game_frame)),
                )
            )
    finally:
        outbox.put(None)
        pusher.join(60)
    frames = sorted(pressed)
    assert len(frames) >= 50  # 2 simulated seconds
    # The game's SimFrame n+1 reports the pad it polled for frame n: exactly frame n's steering.
    for frame in frames[:-1]:
        assert round(pressed[frame + 1] * 80) == round(steering_x(frame) * 80), frame
    assert pushed and pushed[0].applied == len(frames) - 1
    text = controller.metrics()
    assert f'tensorkart_controller_polls_total{{port="0"}} {float(len(frames) - 1)}' in text
    assert not [
        line for line in text.splitlines() if line.startswith("tensorkart_controller_lock_step_timeouts_total{")
    ]
