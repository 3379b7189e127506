"""Which model serves, and swapping it without dropping or delaying a frame.

`ModelHolder` keeps the serving model and the one before it in one tuple, replaced by a
single reference assignment: a frame reads the tuple once and finishes on the model it
got, so a swap never fails or waits a frame. The previous model stays loaded and warm, so
a rollback is instant. `ModelFollower` loads the registry's active
version (Redis key, woken by the pub/sub channel, re-read every `poll_seconds` as a
fallback) or a pinned one; a new version is loaded and warmed up in the follower's own
thread beside the serving model, and only then swapped in. A version that fails to load
is logged, counted (metric + `last_error`) and not retried until its files change; the
old model keeps serving.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tensorkart_core.registry import ACTIVE_KEY, EVENTS_CHANNEL, model_dir
from tensorkart_inference import metrics
from tensorkart_inference.models import ModelLoadError, ServedModel, load_model
from tensorkart_inference.settings import InferenceSettings

log = logging.getLogger(__name__)

CLOSE_EVICTED_AFTER_S = 10.0
# After a swap to a model with another pre-processing spec, frames an edge relay already
# pre-processed for the old spec are answered by the old model for this long (the relay
# re-reads GetModelInfo within a second); later ones are refused as pre-processed wrongly.
PREVIOUS_SPEC_GRACE_S = 5.0


class ModelHolder:
    """The serving model (and its predecessor, for frames pre-processed for it)."""

    def __init__(self) -> None:
        self._slots: tuple[ServedModel | None, ServedModel | None] = (None, None)
        self.swapped_at = 0.0  # time.monotonic() of the last swap
        self.last_error: str = ""
        self.swaps = 0
        # called (from the installing thread) after each install: readiness follows it
        self.on_install: list[Callable[[ServedModel], None]] = []

    @property
    def current(self) -> ServedModel | None:
        return self._slots[0]

    def models(self) -> tuple[ServedModel | None, ServedModel | None]:
        """(current, previous), read together."""
        return self._slots

    def install(self, model: ServedModel) -> None:
        current, evicted = self._slots
        self.swapped_at = time.monotonic()
        self._slots = (model, current)  # the swap: one reference assignment
        self.swaps += 1
        metrics.SWAPS.inc()
        if current is not None:
            metrics.ACTIVE.labels(current.version, current.backend).set(0)
        metrics.ACTIVE.labels(model.version, model.backend).set(1)
        if evicted is not None and evicted is not model:
            # frames still running on it finish first; only then release its resources
            timer = threading.Timer(CLOSE_EVICTED_AFTER_S, evicted.close)
            timer.daemon = True
            timer.start()
        for listener in self.on_install:
            listener(model)


def _fingerprint(data_root: Path, version: str) -> tuple:
    try:
        folder = model_dir(data_root, version)
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()))
    except (OSError, ValueError):
        return ()


class ModelFollower:
    """Keeps `holder` serving the pinned or the registry's active model version."""

    def __init__(
        self,
        settings: InferenceSettings,
        holder: ModelHolder,
        loader: Callable[[Path, str, InferenceSettings], ServedModel] = load_model,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self._load = loader
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failed: dict[str, tuple] = {}
        self._threads: list[threading.Thread] = []
        self._redis: redis.Redis | None = None

    # -- start / stop -------------------------------------------------------------------
    def start(self) -> None:
        """Pinned: load now (raise ModelLoadError if it cannot serve). Else: follow the registry."""
        if self.settings.model:
            self.holder.install(self._load_version(self.settings.model))
            return
        self._redis = redis.Redis.from_url(self.settings.redis_url, decode_responses=True, socket_timeout=5)
        self._sync()  # serve the active model from the first call when there is one
        for target, name in ((self._loader_loop, "model-loader"), (self._event_loop, "model-events")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=3)

    # -- loading ------------------------------------------------------------------------
    def _load_version(self, version: str) -> ServedModel:
        # No gc.collect() here: measured, a full collection stops every serving thread for
        # tens of milliseconds (bench_hot_swap), far worse than the loader's own garbage.
        started = time.perf_counter()
        model = self._load(self.settings.data_root, version, self.settings)
        metrics.LOAD_SECONDS.observe(time.perf_counter() - started)
        return model

    def _active_version(self) -> str | None:
        assert self._redis is not None
        try:
            return self._redis.get(ACTIVE_KEY) or None
        except redis.RedisError as error:
            log.warning("cannot read the active model from Redis (%s); keeping the current one", error)
            return None

    def _sync(self) -> None:
        """Swap to the registry's active version if it differs from the serving one."""
        version = self._active_version()
        current = self.holder.current
        if not version or (current is not None and current.version == version):
            return
        previous = self.holder.models()[1]
        if previous is not None and previous.version == version:
            # a rollback (or promoting the version before): it is still loaded and warm
            self.holder.install(previous)
            log.info("now serving model %s again (kept warm)", version)
            return
        fingerprint = _fingerprint(self.settings.data_root, version)
        if self._failed.get(version) == fingerprint:
            return  # already refused, files unchanged
        log.info("loading model %s beside %s", version, current.version if current else "nothing")
        try:
            model = self._load_version(version)
        except ModelLoadError as error:
            self._failed[version] = fingerprint
            self.holder.last_error = str(error)
            metrics.LOAD_FAILURES.labels(version).inc()
            log.error(
                "refused model %s, still serving %s: %s", version, current.version if current else "nothing", error
            )
            return
        self._failed.pop(version, None)
        self.holder.install(model)
        log.info("now serving model %s (%s)", model.version, model.backend)

    def _loader_loop(self) -> None:
        # Loading competes with serving for the CPU: let the kernel prefer the serving threads.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while not self._stop.is_set():
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._sync()
            except Exception:  # the loader must survive anything a bad model does
                log.exception("model sync failed")

    def _event_loop(self) -> None:
        assert self._redis is not None
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(EVENTS_CHANNEL)
                self._wake.set()  # catch up on anything missed while not subscribed
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._on_event(message.get("data"))
            except redis.RedisError as error:
                log.warning("model events: Redis error (%s); polling every %.0fs", error, self.settings.poll_seconds)
                self._stop.wait(1.0)
            finally:
                with contextlib.suppress(redis.RedisError):
                    pubsub.close()

    def _on_event(self, data: object) -> None:
        try:
            event = json.loads(data) if isinstance(data, str | bytes) else {}
        except ValueError:
            event = {}
        log.info("model event %s", event or data)
        self._wake.set()  # the active key is the truth: the loader re-reads it
