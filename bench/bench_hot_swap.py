"""Benchmark: model hot swaps under load on a real inference server process.

4 Drive streams send edge-pre-processed frames at 60 Hz each (as 4 emulators' relays would).
20 swaps promote two versions alternately in the registry (Redis key + pub/sub event, as
`tensorkart models promote` does); each swap window lasts until every stream is answered by
the new version, plus 0.4 s. Between swaps, 0.5 s steady windows with no swap (steady and swap
windows alternate, so both see the same machine noise). Every frame's latency is measured at
the client (send -> its Steering received) and counted in the window it was sent in.
  hot_swap_failed_requests  frames not answered normally during the swaps (RPC error, stale or
                            error answer, or never answered)
  hot_swap_p99_ms           p99 frame latency during the swap phase
  steady_p99_ms             p99 frame latency under the same load without swaps
Targets: hot_swap_failed_requests = 0, hot_swap_p99_ms <= 2 x steady_p99_ms. The original
TensorKart (and Donkeycar) can only change the model by restarting play.py.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import numpy as np
import redis
from play_stack import game_frame, make_versions, percentile_ms, start_inference

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_core.proto.v1 import inference_pb2_grpc, types_pb2
from tensorkart_core.registry import ACTIVE_KEY, HISTORY_KEY, ModelRegistry

STREAMS = 4
RATE_HZ = 60
STEADY_SECONDS = 10.0
SWAPS = 20
SETTLE_SECONDS = 0.4
BENCH_REDIS_DB = 15  # keeps the bench's active-model key away from a running stack's


class Stream:
    """One Drive stream at RATE_HZ; latencies and failures sorted by the phase at send time."""

    def __init__(self, address: str, frame: types_pb2.Frame, phase: list[str], stop: threading.Event) -> None:
        self.stub = inference_pb2_grpc.InferenceStub(make_channel(address))
        self.frame = frame
        self.phase = phase
        self.stop = stop
        self.sent: dict[int, tuple[int, str]] = {}
        self.latencies: dict[str, list[int]] = {"steady": [], "swap": []}
        self.failures: dict[str, int] = {"steady": 0, "swap": 0}
        self.versions: set[str] = set()
        self.last_version = ""
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _requests(self):
        from tensorkart_capture.sources.base import Pacer

        pacer = Pacer(RATE_HZ)
        sequence = 0
        while not self.stop.is_set():
            pacer.wait()
            sequence += 1
            frame = types_pb2.Frame()
            frame.CopyFrom(self.frame)
            frame.sequence = sequence
            self.sent[sequence] = (time.perf_counter_ns(), self.phase[0])
            yield frame

    def _run(self) -> None:
        try:
            for answer in self.stub.Drive(self._requests()):
                started, phase = self.sent.pop(answer.frame_sequence)
                if answer.stale or answer.error or not answer.model_version:
                    self.failures[phase] += 1
                    continue
                self.latencies[phase].append(time.perf_counter_ns() - started)
                self.versions.add(answer.model_version)
                self.last_version = answer.model_version
        except Exception as error:
            print(f"stream failed: {error}", flush=True)
        for _, phase in self.sent.values():  # never answered
            self.failures[phase] += 1


def run() -> dict[str, float]:
    data_root = make_versions(["swap-a", "swap-b"])
    base = os.environ.get("REDIS_URL", "redis://localhost:6379/0").rsplit("/", 1)[0]
    redis_url = f"{base}/{BENCH_REDIS_DB}"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.delete(ACTIVE_KEY, HISTORY_KEY)
    registry = ModelRegistry(data_root, client)
    registry.promote("swap-a")
    # Stale deadline 1 s: a frame delayed by a swap shows in the p99; one answered stale
    # (or with an error, or not at all) counts as failed.
    inference = start_inference(data_root, REDIS_URL=redis_url, INFERENCE_POLL_SECONDS="5", INFERENCE_STALE_MS="1000")
    stop = threading.Event()
    phase = ["steady"]
    frame = encode_frame(DEFAULT_SPEC.prepare(game_frame(4)), 0, 0, preprocess_id=DEFAULT_SPEC.id)
    streams = [Stream(inference.address(), frame, phase, stop) for _ in range(STREAMS)]
    swap_seconds = []
    try:
        for stream in streams:
            stream.thread.start()
        time.sleep(1.0)  # streams open and warm
        for stream in streams:  # warm-up frames count in neither phase
            stream.latencies["steady"].clear()
        # Steady and swap windows alternate, so both see the same machine noise.
        for swap in range(SWAPS):
            phase[0] = "steady"
            time.sleep(STEADY_SECONDS / SWAPS)
            phase[0] = "swap"
            version = "swap-b" if swap % 2 == 0 else "swap-a"
            started = time.monotonic()
            registry.promote(version)
            while not all(stream.last_version == version for stream in streams):
                time.sleep(0.005)
            swap_seconds.append(time.monotonic() - started)
            time.sleep(SETTLE_SECONDS)
        stop.set()
        for stream in streams:
            stream.thread.join(30)
    finally:
        stop.set()
        inference.stop()
        client.delete(ACTIVE_KEY, HISTORY_KEY)
        shutil.rmtree(data_root, ignore_errors=True)
    steady = [ns for s in streams for ns in s.latencies["steady"]]
    swapping = [ns for s in streams for ns in s.latencies["swap"]]
    failed = sum(s.failures["swap"] for s in streams)
    versions = set().union(*(s.versions for s in streams))
    print(
        f"{len(steady)} steady frames, {len(swapping)} frames across {SWAPS} swaps (versions seen {sorted(versions)}), "
        f"swap visible after p50 {np.median(swap_seconds):.2f}s; steady failures "
        f"{sum(s.failures['steady'] for s in streams)}",
        flush=True,
    )
    return {
        "hot_swap_failed_requests": float(failed),
        "hot_swap_p99_ms": percentile_ms(swapping, 99),
        "steady_p99_ms": percentile_ms(steady, 99),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
