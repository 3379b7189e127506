"""Benchmark: what the dashboard's live view costs the play loop, and the frame rate it gets.

Same run, same stack as bench_play's loop (edge relay -> inference process -> lock-step controller
process, an input-bot poll from a process of its own returns when the frame's steering is applied),
frames paced at 30 Hz as the game makes them. Two relays on one inference server and controller,
one with the live tap (LIVE_FPS copies a second, JPEG-encoded and published to Redis by a
background thread) and one without, take turns in blocks of 20 frames (same machine noise):

  play_loop_p50_ms_live_off / _live_on   capture -> controller state updated, p50 (and _p99_)
  live_view_fps                          frames a Redis subscriber to the session's channel (what
                                         GET /v1/live/{session}/stream relays) received per second
  live_publish_p50_ms                    JPEG encode + publish of one frame (the tap's thread)

Needs a Redis server (REDIS_URL, default localhost:6379); its keys expire after LIVE_TTL_S.
Target: live on within noise of live off (the tap never blocks the loop).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import redis
from bench_play import Plugin
from play_stack import game_frame, make_versions, percentile_ms, start_controller, start_inference

VERSION = "bench-live"
BLOCK = 20
BLOCKS = 30  # per side
RATE_HZ = 30.0
SESSION = f"bench-live-{os.getpid()}"


class Subscriber:
    """Counts the session's published frames (and their publish_ms) from a thread of its own."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self.client = redis.Redis.from_url(redis_url)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(channel)
        self.times: list[float] = []
        self.publish_ms: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is None:
                continue
            meta, _, jpeg = message["data"].partition(b"\n")
            if jpeg:
                self.times.append(time.monotonic())
                self.publish_ms.append(json.loads(meta)["publish_ms"])

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.pubsub.close()
        self.client.close()


def run() -> dict[str, float]:
    from tensorkart_capture.live_tap import session_key
    from tensorkart_capture.relay import Relay, RelayOptions
    from tensorkart_capture.sources.base import CapturedFrame, Pacer

    redis_url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    os.environ["LIVE_ENABLED"] = "1"
    data_root = make_versions([VERSION])
    processes = []
    try:
        inference = start_inference(data_root, INFERENCE_MODEL=VERSION)
        processes.append(inference)
        controller = start_controller(CONTROLLER_MODE="lock_step", CONTROLLER_LOCK_STEP_TIMEOUT_MS="60000")
        processes.append(controller)
        address = (inference.address(), controller.address())
        relays = {
            live: Relay(RelayOptions(*address, max_frame_age_ms=60_000, session=SESSION, live=live))
            for live in (False, True)
        }
        for relay in relays.values():
            if not relay.wait_connected(30):
                raise RuntimeError("relay did not connect")
        subscriber = Subscriber(redis_url, session_key(SESSION))
        plugin = Plugin(controller.ports["http"])
        picture = game_frame(3)
        latencies: dict[bool, list[int]] = {False: [], True: []}
        live_seconds = 0.0
        pacer = Pacer(RATE_HZ)
        sequence = 0
        try:
            for block in range(2 * BLOCKS + 2):
                live = block % 2 == 1
                started = time.monotonic()
                for i in range(BLOCK):
                    sequence += 1
                    pacer.wait()
                    plugin.start_poll()
                    time.sleep(0.002)  # the poll is now waiting in the controller
                    captured = time.monotonic_ns()
                    relays[live].offer(CapturedFrame(sequence, captured, picture, game_frame=sequence))
                    answered = plugin.answered_ns()
                    if block >= 2 and i >= 2:  # the first blocks and frames after a switch warm up
                        latencies[live].append(answered - captured)
                if live and block >= 2:
                    live_seconds += time.monotonic() - started
        finally:
            plugin.close()
            for relay in relays.values():
                relay.close()
            time.sleep(0.3)
            subscriber.close()
        received = len(subscriber.times)
        fps = (received - 1) / (subscriber.times[-1] - subscriber.times[0]) if received > 1 else 0.0
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(data_root, ignore_errors=True)
    # The tap publishes only while its relay has the frames (every other block): its rate while
    # live is fps over the live blocks' share of the time.
    result = {
        "play_loop_p50_ms_live_off": percentile_ms(latencies[False], 50),
        "play_loop_p50_ms_live_on": percentile_ms(latencies[True], 50),
        "play_loop_p99_ms_live_off": percentile_ms(latencies[False], 99),
        "play_loop_p99_ms_live_on": percentile_ms(latencies[True], 99),
        "live_view_fps": round(received / live_seconds, 2) if live_seconds else 0.0,
        "live_publish_p50_ms": round(float(sorted(subscriber.publish_ms)[len(subscriber.publish_ms) // 2]), 3)
        if subscriber.publish_ms
        else 0.0,
    }
    on, off = result["play_loop_p50_ms_live_on"], result["play_loop_p50_ms_live_off"]
    summary = f"play loop p50 {on} ms with the live tap vs {off} ms without ({on / off:.2f}x)"
    print(f"{summary}; live view {result['live_view_fps']} fps ({fps:.1f} fps over the whole run)", flush=True)
    return result


if __name__ == "__main__":
    print(json.dumps(run()))
