"""The live view's tap on the play loop: a few frames a second, with their steering, to Redis.

The relay calls `frame()` for every captured frame and `answer()` for every steering answer;
both return at once. About `LIVE_FPS` times a second `frame()` keeps the picture (no copy: a
source never changes a picture after yielding it, see CapturedFrame, and the tap marks it
read-only so nothing can), with the human's stick when there is one, until the model's answer
for it arrives; the pair then goes into a bounded queue (the oldest is dropped when the publisher is behind: the loop
never waits). A background thread JPEG-encodes it (OpenCV) and publishes it to Redis, where
the trainer's `/v1/live` routes serve it to the browser:

    tensorkart:live:sessions           sorted set: session -> unix time of its last frame
    tensorkart:live:<session>          hash: jpeg (latest frame), meta (its JSON); expires after LIVE_TTL_S
    tensorkart:live:<session>          pub/sub channel: every frame as <meta JSON>\\n<JPEG bytes>

meta: session, seq, t (unix s), width, height, model_x / human_x (stick x in [-1, 1], or
null), model_version, source (model | human: who drives), override (human holds LB),
shadow, stale (the server marked the answer stale, or no answer came), latency_ms (capture ->
answer), agreement ({frames, mean_abs_dx, within_0_1} over the tapped frames with both
steerings), sim ({laps, interventions, sim_seconds, autonomy} on the practice track),
fps (frames published per second), publish_ms (encode + publish of this frame), ended.

Set LIVE_ENABLED=0 to turn it off. Redis down: frames are dropped (counted), one warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import redis
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.proto.v1 import types_pb2
from tensorkart_core.settings import DEFAULT_REDIS_URL

log = logging.getLogger(__name__)

SESSIONS_KEY = "tensorkart:live:sessions"
SECONDS_PER_INTERVENTION = 6.0  # CONTRACT.md: autonomy = max(0, 1 - interventions x 6 s / simulated s)
PUBLISHER_NICE = 10  # the publisher thread's niceness (Linux: per thread)
NO_ANSWER_S = 0.5  # a tapped frame without an answer after this long is shown as stale


def session_key(session: str) -> str:
    """The Redis hash (latest frame) and the pub/sub channel of one play session."""
    return f"tensorkart:live:{session}"


class LiveTapSettings(BaseSettings):
    """LIVE_ENABLED, LIVE_FPS, LIVE_JPEG_QUALITY, LIVE_TTL_S, REDIS_URL."""

    model_config = SettingsConfigDict(env_prefix="LIVE_", extra="ignore")

    enabled: bool = True
    fps: float = Field(12.0, gt=0, le=60)
    jpeg_quality: int = Field(75, ge=10, le=100)
    ttl_s: float = Field(10.0, gt=0)
    redis_url: str = Field(DEFAULT_REDIS_URL, validation_alias=AliasChoices("REDIS_URL"))


@dataclass
class _Tapped:
    rgb: np.ndarray
    sequence: int
    capture_time_ns: int
    taken: float
    human_x: float | None
    override: bool
    steering: dict[str, Any] = field(default_factory=dict)


class LiveTap:
    """Hands copies of ~`fps` frames a second and their steering to a publisher thread."""

    def __init__(
        self, session: str, settings: LiveTapSettings, shadow: bool = False, client: redis.Redis | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.shadow = shadow
        self.client = client or redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        self.interval_s = 1.0 / settings.fps
        self.published = 0
        self.dropped = 0
        self.source: object | None = None  # the frame source; the practice track's `last` gives autonomy
        self._next_take = 0.0
        self._waiting: dict[int, _Tapped] = {}  # sequence -> tapped frame waiting for its answer
        self._waiting_lock = threading.Lock()  # frame() and answer() run on different threads
        self._early: tuple[types_pb2.Steering, int] | None = None  # the latest answer no tapped frame waited for
        self._queue: deque[_Tapped] = deque(maxlen=2)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._agree = [0, 0.0, 0]  # frames, sum |dx|, within 0.1
        self._times: deque[float] = deque(maxlen=30)
        self._redis_ok = True
        self._thread = threading.Thread(target=self._publish_loop, name="live-tap", daemon=True)
        self._thread.start()

    # -- called by the relay (the loop's threads): cheap, never blocks ----------------------
    def frame(self, captured: CapturedFrame, human: types_pb2.Joystick | None) -> None:
        now = time.monotonic()
        if now < self._next_take:
            return
        self._next_take = now + self.interval_s
        captured.rgb.flags.writeable = False  # held by the publisher until encoded: nobody may change it
        tapped = _Tapped(
            captured.rgb,
            captured.sequence,
            captured.capture_time_ns,
            now,
            None if human is None else human.x,
            bool(human is not None and human.lb),
        )
        with self._waiting_lock:
            unanswered = [self._waiting.pop(s) for s, t in list(self._waiting.items()) if now - t.taken > NO_ANSWER_S]
            early = self._early
            if early is not None and early[0].frame_sequence != captured.sequence:
                early = None
            if early is None:
                self._waiting[captured.sequence] = tapped
        for old in unanswered:  # never answered: shown as stale
            self._hand_over(old)
        if early is not None:  # its answer came before the copy was made
            self._complete(tapped, *early)

    def answer(self, steering: types_pb2.Steering) -> None:
        answered_ns = time.monotonic_ns()
        with self._waiting_lock:
            tapped = self._waiting.pop(steering.frame_sequence, None) if self._waiting else None
            if tapped is None:
                self._early = (steering, answered_ns)  # frame() may not have made its copy yet
                return
        self._complete(tapped, steering, answered_ns)

    def _complete(self, tapped: _Tapped, steering: types_pb2.Steering, answered_ns: int) -> None:
        tapped.steering = {
            "model_x": round(float(steering.joystick.x), 4),
            "model_version": steering.model_version,
            "stale": bool(steering.stale or steering.error_code),
            "latency_ms": round((answered_ns - tapped.capture_time_ns) / 1e6, 3),
        }
        self._hand_over(tapped)

    def close(self) -> None:
        """Stop the publisher; the session's last meta says `ended`."""
        self._stop.set()
        with self._wake:
            self._wake.notify()
        self._thread.join(timeout=2)
        try:
            raw = self.client.hget(session_key(self.session), "meta")
            if raw:
                meta = {**json.loads(raw), "ended": True}
                self.client.hset(session_key(self.session), "meta", json.dumps(meta))
                self.client.publish(session_key(self.session), json.dumps(meta).encode() + b"\n")
        except redis.RedisError:
            pass
        self.client.close()

    # -- publisher thread -------------------------------------------------------------------
    def _hand_over(self, tapped: _Tapped | None) -> None:
        if tapped is None:
            return
        with self._wake:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(tapped)
            self._wake.notify()

    def _publish_loop(self) -> None:
        import cv2  # OpenCV is a capture dependency; imported here, off the loop's path

        with contextlib.suppress(AttributeError, OSError):  # this thread only: it yields the CPU to the loop
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PUBLISHER_NICE)
        while not self._stop.is_set():
            with self._wake:
                while not self._queue and not self._stop.is_set():
                    self._wake.wait(0.5)
                if self._stop.is_set():
                    return
                tapped = self._queue.popleft()
            started = time.perf_counter()
            bgr = cv2.cvtColor(tapped.rgb, cv2.COLOR_RGB2BGR)
            ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality])
            if not ok:
                self.dropped += 1
                continue
            meta = self._meta(tapped)
            meta["publish_ms"] = round((time.perf_counter() - started) * 1e3, 3)
            self._publish(meta, jpeg.tobytes())

    def _meta(self, tapped: _Tapped) -> dict[str, Any]:
        steering = tapped.steering
        model_x = steering.get("model_x")
        if model_x is not None and tapped.human_x is not None:
            dx = abs(model_x - tapped.human_x)
            self._agree[0] += 1
            self._agree[1] += dx
            self._agree[2] += dx <= 0.1
        now = time.time()
        self._times.append(now)
        fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
        frames, total_dx, within = self._agree
        return {
            "session": self.session,
            "seq": tapped.sequence,
            "t": round(now, 3),
            "width": int(tapped.rgb.shape[1]),
            "height": int(tapped.rgb.shape[0]),
            "model_x": model_x,
            "human_x": None if tapped.human_x is None else round(float(tapped.human_x), 4),
            "model_version": steering.get("model_version", ""),
            "source": "human" if tapped.override or self.shadow else "model",
            "override": tapped.override,
            "shadow": self.shadow,
            "stale": steering.get("stale", True),
            "latency_ms": steering.get("latency_ms"),
            "agreement": {
                "frames": frames,
                "mean_abs_dx": round(total_dx / frames, 4) if frames else None,
                "within_0_1": round(within / frames, 4) if frames else None,
            },
            "sim": self._sim(),
            "fps": round(fps, 2),
            "published": self.published,
            "dropped": self.dropped,
            "ended": False,
        }

    def _sim(self) -> dict[str, Any] | None:
        last = getattr(self.source, "last", None)
        if last is None or not hasattr(last, "interventions"):
            return None
        seconds = float(last.sim_seconds)
        autonomy = 1.0 if seconds <= 0 else max(0.0, 1.0 - last.interventions * SECONDS_PER_INTERVENTION / seconds)
        return {
            "laps": int(last.laps),
            "interventions": int(last.interventions),
            "sim_seconds": round(seconds, 2),
            "autonomy": round(autonomy, 4),
        }

    def _publish(self, meta: dict[str, Any], jpeg: bytes) -> None:
        key = session_key(self.session)
        text = json.dumps(meta)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(key, mapping={"jpeg": jpeg, "meta": text})
            pipe.pexpire(key, int(self.settings.ttl_s * 1000))
            pipe.zadd(SESSIONS_KEY, {self.session: meta["t"]})
            pipe.publish(key, text.encode() + b"\n" + jpeg)
            pipe.execute()
            self.published += 1
            self._redis_ok = True
        except redis.RedisError as error:
            self.dropped += 1
            if self._redis_ok:
                log.warning("live view: cannot publish to Redis (%s); frames are dropped until it answers", error)
            self._redis_ok = False
            self._stop.wait(1.0)


def from_env(session: str, shadow: bool = False) -> LiveTap | None:
    """The tap for a play session as the environment configures it (None when LIVE_ENABLED=0)."""
    settings = LiveTapSettings()
    if not settings.enabled:
        return None
    return LiveTap(session or time.strftime("play-%Y%m%d-%H%M%S", time.gmtime()), settings, shadow)
