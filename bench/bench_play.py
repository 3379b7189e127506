"""Benchmark: the play path, frame -> steering -> controller, against TensorKart's play.py.

Same run, same PilotNet (random weights, exported like the trainer does):
  tensorkart_play_path_p50_ms  the original approach per frame: skimage.transform.resize of the
                               640x480 frame to 66x200 + Keras model.predict (play.py)
  model_floor_p50_ms           the served LiteRT file (int8 by default) invoked directly in-process
                               (pre-processed input)
  inference_rpc_p50_ms         one edge-pre-processed frame through the inference server's gRPC API
                               as play uses it: sent on an open Drive stream, its answer received
  inference_predict_p50_ms     the same frame through the unary Predict call (a new HTTP/2 stream
                               per call: Python gRPC's per-call cost on top)
                               (floor, Drive and Predict measured in alternating blocks: same noise)
  play_loop_p50_ms / _p99_ms   capture timestamp -> controller state updated, through real gRPC:
                               edge relay (pre-processing at the edge) -> inference server process ->
                               controller process (lock-step); the relay forwards each answer to
                               the controller (the pad's one writer). Measured as a plugin does it, from a process
                               of its own (plugin_poller.py, as the emulator is): an input-bot poll
                               is waiting before the frame is captured and returns the moment the
                               controller applies that frame's steering. Blocks of 25 loop frames
                               alternate with 2 frames of the original path (same machine noise).
  play_loop_servers_cpu_ms_per_frame  CPU time of the inference and controller processes per
                               loop frame, their idle time between frames included (/proc; the
                               relay runs in this process, beside the original path's
                               TensorFlow, and is not counted)
  play_loop_hz_max             highest frame rate (30 .. 400 Hz) the loop sustains for 3 s with no
                               frame dropped (every frame answered, not stale, applied by the
                               controller; free-run mode; a rate passes if one of two tries does)
Targets: play_loop_p50_ms >= 40x below tensorkart_play_path_p50_ms; inference_rpc_p50_ms <=
1.5 x model_floor_p50_ms + 0.5 ms; play_loop_hz_max >= 60.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from bench_classroom import cpu_seconds
from play_stack import (
    game_frame,
    make_versions,
    percentile_ms,
    served_tflite,
    start_controller,
    start_inference,
)

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, inference_pb2, inference_pb2_grpc

VERSION = "bench-play"
ORIGINAL_PER_BLOCK = 2  # original play-path frames between blocks of loop frames
LOOP_BLOCK = 25
LOOP_WARMUP = 20
AFTER_BLOCK_SKIP = 3
CALLS = 600
BLOCK = 20
LOOP_FRAMES = 350
RATES = (30, 60, 90, 120, 150, 180, 240, 300, 400)
RATE_SECONDS = 3.0


def original_play_path(data_root):
    """TensorKart play.py per frame: skimage resize to 66x200 (floats 0..1) + model.predict.
    Returns a function running one frame and returning its time in ns."""
    import keras
    from skimage.transform import resize

    model = keras.models.load_model(data_root / "models" / VERSION / "model.keras", compile=False)
    screen = game_frame(1)

    def one_frame() -> int:
        started = time.perf_counter_ns()
        vec = resize(screen, (66, 200, 3))
        model.predict(np.expand_dims(vec, axis=0), batch_size=1, verbose=0)[0]
        return time.perf_counter_ns() - started

    one_frame()  # the first calls build the predict function
    one_frame()
    return one_frame


def floor_and_rpc(data_root, address: str, num_threads: int = 1) -> tuple[float, float, float]:
    """The served LiteRT file invoked in-process vs the same pre-processed frame through a Drive
    stream and through Predict, measured in alternating blocks so all see the same machine noise."""
    import queue

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(served_tflite(data_root, VERSION)), num_threads=num_threads)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    prepared = DEFAULT_SPEC.prepare(game_frame(2))
    model_input = DEFAULT_SPEC.to_model_input(prepared)[np.newaxis]

    def floor_call() -> None:
        interpreter.set_tensor(inp["index"], model_input)
        interpreter.invoke()
        interpreter.get_tensor(out["index"])

    stub = inference_pb2_grpc.InferenceStub(make_channel(address))
    frame = encode_frame(prepared, 1, 0, preprocess_id=DEFAULT_SPEC.id)
    request = inference_pb2.PredictRequest(frame=frame)
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    answers = stub.Drive(iter(outbox.get, None))

    def predict_call() -> None:
        stub.Predict(request, timeout=10)

    def drive_call() -> None:
        outbox.put(frame)
        next(answers)

    floor, drive, predict = [], [], []
    for block in range(CALLS // BLOCK + 1):
        for call, samples in ((floor_call, floor), (drive_call, drive), (predict_call, predict)):
            for _ in range(BLOCK):
                started = time.perf_counter_ns()
                call()
                if block:  # the first block warms up
                    samples.append(time.perf_counter_ns() - started)
    outbox.put(None)
    return percentile_ms(floor, 50), percentile_ms(drive, 50), percentile_ms(predict, 50)


class Plugin:
    """The input-bot plugin's polls, from a process of their own (plugin_poller.py), as the
    emulator makes them: the relay's threads and this one do not share a GIL with it."""

    def __init__(self, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("plugin_poller.py")), str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def start_poll(self) -> None:
        """Open a poll; returns once the request is sent (lock-step: it waits in the controller)."""
        self.process.stdin.write("poll\n")
        if self.process.stdout.readline().strip() != "sent":
            raise RuntimeError("the plugin stand-in did not send its poll")

    def answered_ns(self) -> int:
        """Monotonic time at which the waiting poll's reply was complete."""
        line = self.process.stdout.readline()
        if not line.strip():
            raise RuntimeError("the controller never answered the poll")
        return int(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def play_loop_latency(
    inference: str, controller, picture: np.ndarray, original, count: int = LOOP_FRAMES
) -> tuple[list[int], list[int]]:
    """Loop latencies, with blocks of original play-path frames in between (same machine noise)."""
    from tensorkart_capture.relay import Relay, RelayOptions
    from tensorkart_capture.sources.base import CapturedFrame

    relay = Relay(RelayOptions(inference, controller.address(), max_frame_age_ms=60_000))
    if not relay.wait_connected(30):
        raise RuntimeError("relay did not connect")
    loop: list[int] = []
    originals: list[int] = []
    plugin = Plugin(controller.ports["http"])

    def frames():
        for sequence in range(1, count + LOOP_WARMUP + 1):
            if sequence > LOOP_WARMUP and sequence % LOOP_BLOCK == 0:
                # a poll is waiting in the controller (lock-step, long timeout) meanwhile
                originals.extend(original() for _ in range(ORIGINAL_PER_BLOCK))
            plugin.start_poll()
            time.sleep(0.002)  # the poll is now waiting in the controller
            captured = time.monotonic_ns()
            yield CapturedFrame(sequence, captured, picture, game_frame=sequence)
            answered = plugin.answered_ns()
            # TensorFlow's thread pools keep spinning briefly after a predict; the frames right
            # after an original block would measure that, not the loop
            if sequence > LOOP_WARMUP and sequence % LOOP_BLOCK >= AFTER_BLOCK_SKIP:
                loop.append(answered - captured)

    try:
        stats = relay.run(frames())
    finally:
        plugin.close()
    if stats.dropped or stats.stale:
        raise RuntimeError(f"play loop lost frames: {stats.to_dict()}")
    return loop, originals


def applied_total(controller) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{controller.ports['metrics']}/metrics", timeout=5).read()
    for line in text.decode().splitlines():
        if line.startswith('tensorkart_controller_steering_applied_total{source="model"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def sustains(inference: str, controller, picture: np.ndarray, rate: float) -> bool:
    from tensorkart_capture.relay import Relay, RelayOptions
    from tensorkart_capture.sources.base import CapturedFrame, Pacer

    relay = Relay(RelayOptions(inference, controller.address()))
    if not relay.wait_connected(30):
        raise RuntimeError("relay did not connect")
    before = applied_total(controller)
    count = int(rate * RATE_SECONDS)

    def frames():
        pacer = Pacer(rate)
        for sequence in range(1, count + 1):
            pacer.wait()
            yield CapturedFrame(sequence, time.monotonic_ns(), picture, game_frame=sequence)

    started = time.monotonic()
    stats = relay.run(frames())
    elapsed = time.monotonic() - started
    time.sleep(0.2)
    applied = applied_total(controller) - before
    achieved = stats.captured / elapsed
    ok = (
        stats.answered == stats.captured == count
        and stats.dropped == 0
        and stats.stale == 0
        and applied == count
        and achieved >= 0.95 * rate
    )
    print(
        f"  {rate:5.0f} Hz: achieved {achieved:6.1f}, answered {stats.answered}/{count}, dropped {stats.dropped}, "
        f"stale {stats.stale}, applied {applied:.0f} -> {'ok' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def run() -> dict[str, float]:
    data_root = make_versions([VERSION])
    processes = []
    try:
        original_frame = original_play_path(data_root)
        inference = start_inference(data_root, INFERENCE_MODEL=VERSION)
        processes.append(inference)
        controller = start_controller(CONTROLLER_MODE="lock_step", CONTROLLER_LOCK_STEP_TIMEOUT_MS="60000")
        processes.append(controller)
        floor, rpc, predict = floor_and_rpc(data_root, inference.address())
        picture = game_frame(3)
        servers_cpu_at_start = cpu_seconds(inference.process.pid) + cpu_seconds(controller.process.pid)
        loop, originals = play_loop_latency(inference.address(), controller, picture, original_frame)
        servers_cpu = cpu_seconds(inference.process.pid) + cpu_seconds(controller.process.pid) - servers_cpu_at_start
        loop_frames = LOOP_FRAMES + LOOP_WARMUP
        original = percentile_ms(originals, 50)
        loop_p50, loop_p99 = percentile_ms(loop, 50), percentile_ms(loop, 99)
        stub = controller_pb2_grpc.ControllerStub(make_channel(controller.address()))
        stub.Configure(controller_pb2.ControllerConfig(mode=controller_pb2.CONTROLLER_MODE_FREE_RUN), timeout=10)
        hz_max = 0.0
        for rate in RATES:
            # two tries: one load spike from another process on this shared machine should not
            # decide the rate; a rate the loop cannot carry fails both
            if not any(sustains(inference.address(), controller, picture, rate) for _ in range(2)):
                break
            hz_max = float(rate)
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(data_root, ignore_errors=True)
    result = {
        "tensorkart_play_path_p50_ms": original,
        "model_floor_p50_ms": floor,
        "inference_rpc_p50_ms": rpc,
        "inference_predict_p50_ms": predict,
        "play_loop_p50_ms": loop_p50,
        "play_loop_p99_ms": loop_p99,
        "play_loop_hz_max": hz_max,
        "play_loop_servers_cpu_ms_per_frame": round(servers_cpu * 1e3 / loop_frames, 4),
    }
    print(
        f"play loop {loop_p50} ms vs original {original} ms: {original / loop_p50:.1f}x (target 40x); "
        f"rpc {rpc} ms vs floor {floor} ms (target <= {1.5 * floor + 0.5:.2f} ms)",
        flush=True,
    )
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
