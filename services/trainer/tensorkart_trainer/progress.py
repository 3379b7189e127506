"""Inside a running job: progress into RQ job meta, a heartbeat, cancel requests, a log tail.

The API reads all of this from Redis. The heartbeat thread also notices when the worker
process that forked this job has died (the job is then orphaned): it marks the job
failed with the reason and ends the process instead of training on unobserved.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import redis
from rq.job import Job

from tensorkart_trainer.jobs import CANCEL_KEY, HEARTBEAT_KEY, mark_failed

LOG_TAIL = 60
log = logging.getLogger("tensorkart.trainer.job")


class JobCanceled(Exception):
    """The job was canceled through the API."""


class JobReporter:
    """Writes a job's progress to Redis; thread-safe; meta writes are throttled."""

    def __init__(
        self,
        job: Job | None,
        connection: redis.Redis | None,
        heartbeat_interval_s: float = 2.0,
        heartbeat_timeout_s: float = 20.0,
        min_interval_s: float = 0.5,
    ) -> None:
        self.job = job
        self.redis = connection
        self.heartbeat_interval_s = heartbeat_interval_s
        self.heartbeat_ttl_ms = int(heartbeat_timeout_s * 1000)
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._last_save = 0.0
        self._last_cancel_check = 0.0
        self._canceled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._parent = os.getppid()
        self.meta: dict[str, Any] = dict(job.meta) if job else {}

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        if self.job is None or self.redis is None:
            return
        self._beat()
        self._thread = threading.Thread(target=self._heartbeat_loop, name="job-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        # The heartbeat key is left to expire: deleting it here would race RQ marking the job finished.
        self.save(force=True)

    def _beat(self) -> None:
        assert self.job is not None and self.redis is not None
        self.redis.set(HEARTBEAT_KEY.format(id=self.job.id), str(time.time()), px=self.heartbeat_ttl_ms)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_interval_s):
            if os.getppid() != self._parent:
                self._orphaned()
            try:
                self._beat()
            except redis.RedisError as error:
                log.warning("heartbeat failed: %s", error)

    def _orphaned(self) -> None:
        assert self.job is not None and self.redis is not None
        reason = f"worker lost: the worker process (pid {self._parent}) died while job {self.job.id} was running"
        self.log(reason, level=logging.ERROR)
        self.update(state="failed", phase="failed", error=reason)
        self.save(force=True)
        self.redis.delete(HEARTBEAT_KEY.format(id=self.job.id))
        mark_failed(self.redis, self.job, reason)
        os._exit(1)

    # --- progress ---------------------------------------------------------------------
    def update(self, **fields: Any) -> None:
        with self._lock:
            self.meta.update(fields)

    def log(self, message: str, level: int = logging.INFO) -> None:
        log.log(level, "%s", message)
        line = f"{time.strftime('%H:%M:%S', time.gmtime())} {message}"
        with self._lock:
            tail = [*self.meta.get("log", []), line][-LOG_TAIL:]
            self.meta["log"] = tail
        self.save(force=True)

    def save(self, force: bool = False) -> None:
        if self.job is None:
            return
        now = time.monotonic()
        if not force and now - self._last_save < self.min_interval_s:
            return
        with self._lock:
            self._last_save = now
            self.job.meta = dict(self.meta, updated=time.time())
            try:
                self.job.save_meta()
            except redis.RedisError as error:
                log.warning("could not save job progress: %s", error)

    # --- cancel -----------------------------------------------------------------------
    def cancel_requested(self) -> bool:
        if self._canceled:
            return True
        if self.job is None or self.redis is None:
            return False
        now = time.monotonic()
        if now - self._last_cancel_check < 0.2:
            return False
        self._last_cancel_check = now
        self._canceled = bool(self.redis.exists(CANCEL_KEY.format(id=self.job.id)))
        return self._canceled

    def raise_if_canceled(self) -> None:
        if self.cancel_requested():
            raise JobCanceled("canceled through the API")
