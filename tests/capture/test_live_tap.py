"""The live tap on its own: a real Redis receives the tapped frames with their steering; with Redis
down the loop's calls still return at once and the frames are counted as dropped."""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import redis

from tensorkart_capture.live_tap import SESSIONS_KEY, LiveTap, LiveTapSettings, session_key
from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.proto.v1 import types_pb2


def _frame(sequence: int) -> CapturedFrame:
    rgb = np.full((480, 640, 3), sequence % 255, dtype=np.uint8)
    return CapturedFrame(sequence, time.monotonic_ns(), rgb)


def _answer(sequence: int, x: float) -> types_pb2.Steering:
    return types_pb2.Steering(frame_sequence=sequence, joystick=types_pb2.Joystick(x=x), model_version="m1")


def test_tapped_frames_reach_redis_with_their_steering(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.subscribe(session_key("tap-1"))
    tap = LiveTap("tap-1", LiveTapSettings(fps=50, redis_url=redis_url), shadow=True)
    human = types_pb2.Joystick(x=0.25)
    for sequence in range(1, 31):
        frame = _frame(sequence)
        if sequence % 2:
            tap.answer(_answer(sequence, 0.3))  # an answer before the copy is made is paired too
            tap.frame(frame, human)
        else:
            tap.frame(frame, human)
            tap.answer(_answer(sequence, 0.3))
        time.sleep(0.03)
    deadline = time.monotonic() + 5
    metas = []
    while time.monotonic() < deadline and len(metas) < 5:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message:
            meta, _, jpeg = message["data"].partition(b"\n")
            assert jpeg[:2] == b"\xff\xd8"  # a JPEG
            metas.append(json.loads(meta))
    tap.close()
    assert len(metas) >= 5
    meta = metas[-1]
    assert meta["model_x"] == 0.3 and meta["human_x"] == 0.25 and meta["model_version"] == "m1"
    assert meta["stale"] is False and meta["shadow"] is True and meta["source"] == "human"
    assert meta["agreement"]["frames"] >= 5 and meta["agreement"]["within_0_1"] == 1.0
    assert (meta["width"], meta["height"]) == (640, 480)
    assert client.zscore(SESSIONS_KEY, "tap-1") is not None
    assert json.loads(client.hget(session_key("tap-1"), "meta"))["ended"] is True


def test_an_unanswered_frame_is_published_as_stale(redis_url: str) -> None:
    tap = LiveTap("tap-2", LiveTapSettings(fps=50, redis_url=redis_url))
    tap.frame(_frame(1), None)
    time.sleep(0.6)  # no answer within NO_ANSWER_S
    tap.frame(_frame(2), None)
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not client.hget(session_key("tap-2"), "meta"):
        time.sleep(0.05)
    tap.close()
    meta = json.loads(client.hget(session_key("tap-2"), "meta"))
    assert meta["seq"] == 1 and meta["stale"] is True and meta["model_x"] is None


def test_a_stuck_redis_never_blocks_the_loop() -> None:
    """A Redis that accepts connections but never answers holds the publisher in its first call; the
    loop's calls go on meanwhile, so tapped frames overflow the bounded queue (dropped, never waited for)."""
    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(8)
    tap = LiveTap("tap-3", LiveTapSettings(fps=60, redis_url=f"redis://127.0.0.1:{stuck.getsockname()[1]}/0"))
    try:
        for sequence in range(1, 201):
            tap.frame(_frame(sequence), None)
            tap.answer(_answer(sequence, 0.1))
            time.sleep(0.002)
        assert tap.published == 0  # the publisher is still waiting on the first frame
        assert tap.dropped >= 5  # the frames tapped after it went on, and the oldest were dropped
    finally:
        tap.close()
        stuck.close()
