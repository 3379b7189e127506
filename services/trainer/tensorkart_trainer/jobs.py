"""Training jobs on the RQ queue: enqueue, describe, list, cancel, and fail jobs whose worker died.

Job state lives in Redis only (RQ's job hash, its meta written by the running job, and a
few keys of ours), so an API restart loses nothing. A running job refreshes a heartbeat
key every few seconds; `sweep` turns a started job without a heartbeat into a failed one
with the reason, so a killed worker never leaves a job "running" forever.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from tensorkart_trainer import tensorboard_log
from tensorkart_trainer.params import JobParams
from tensorkart_trainer.settings import TrainerSettings

JOB_FUNC = "tensorkart_trainer.training.run_job"
JOBS_KEY = "tensorkart:trainer:jobs"
HEARTBEAT_KEY = "tensorkart:trainer:heartbeat:{id}"
CANCEL_KEY = "tensorkart:trainer:cancel:{id}"
LOST_KEY = "tensorkart:trainer:lost:{id}"
TERMINAL = ("finished", "failed", "canceled")


class JobNotFound(LookupError):
    """No training job with that id."""


class JobConflict(RuntimeError):
    """The job is in a state that does not allow the request (e.g. cancel a finished job)."""


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


class JobStore:
    """The trainer's view of RQ: one queue, our jobs, their state and progress."""

    def __init__(self, settings: TrainerSettings, connection: redis.Redis) -> None:
        self.settings = settings
        self.redis = connection
        self.queue = Queue(settings.queue, connection=connection)

    @classmethod
    def from_settings(cls, settings: TrainerSettings) -> JobStore:
        return cls(settings, redis.Redis.from_url(settings.redis_url))

    # --- submit -----------------------------------------------------------------------
    def submit(self, params: JobParams, datasets: list[str]) -> str:
        ttl = int(self.settings.job_ttl_days * 86400)
        meta = {
            "state": "queued",
            "phase": "queued",
            "params": params.model_dump(mode="json"),
            "datasets": datasets,
            "progress": {"epoch": 0, "epochs": params.epochs, "step": 0, "steps": None, "fraction": 0.0},
            "history": [],
            "log": [],
        }
        job = self.queue.enqueue_call(
            JOB_FUNC,
            args=(params.model_dump(mode="json"), datasets),
            timeout=self.settings.job_timeout_s,
            result_ttl=ttl,
            failure_ttl=ttl,
            meta=meta,
            description=f"train PilotNet on {', '.join(datasets)}",
        )
        self.redis.zadd(JOBS_KEY, {job.id: time.time()})
        return job.id

    # --- read -------------------------------------------------------------------------
    def fetch(self, job_id: str) -> Job:
        if (
            not isinstance(job_id, str)
            or not job_id
            or len(job_id) > 128
            or self.redis.zscore(JOBS_KEY, job_id) is None
        ):
            raise JobNotFound(f"no training job {job_id!r}")
        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            raise JobNotFound(f"training job {job_id!r} has expired") from None

    def state(self, job: Job) -> str:
        status = job.get_status(refresh=False)
        meta_state = job.meta.get("state")
        if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED):
            return "queued"
        if status in (JobStatus.CANCELED, JobStatus.STOPPED):
            return "canceled"
        if status == JobStatus.FAILED:
            return "failed"
        if status == JobStatus.FINISHED:
            return "canceled" if meta_state == "canceled" else "finished"
        return "running"

    def describe(self, job_id: str) -> dict[str, Any]:
        job = self.fetch(job_id)
        self._check_lost(job)
        return self._view(job)

    def _view(self, job: Job) -> dict[str, Any]:
        meta = job.meta
        state = self.state(job)
        error = meta.get("error")
        if state == "failed" and not error:
            lost = self.redis.get(LOST_KEY.format(id=job.id))
            error = lost.decode() if lost else _last_line(self._exc_string(job))
        return {
            "id": job.id,
            "state": state,
            "phase": meta.get("phase", state),
            "created": _iso(job.created_at),
            "started": _iso(job.started_at),
            "ended": _iso(job.ended_at),
            "params": meta.get("params"),
            "datasets": meta.get("datasets", []),
            "progress": meta.get("progress", {}),
            "history": meta.get("history", []),
            "eta_s": meta.get("eta_s") if state == "running" and meta.get("phase") == "training" else None,
            "log": meta.get("log", []),
            "model_version": meta.get("model_version"),
            "metrics": meta.get("metrics", {}),
            "bad_data": meta.get("bad_data", {}),
            "evaluation": meta.get("evaluation"),
            "error": error if state == "failed" else None,
            "cancel_requested": bool(self.redis.exists(CANCEL_KEY.format(id=job.id))),
            "worker": job.worker_name,
            "tensorboard": tensorboard_log.describe(self.settings.work_root, job.id),
        }

    @staticmethod
    def _exc_string(job: Job) -> str | None:
        try:
            result = job.latest_result()
        except Exception:
            return None
        return getattr(result, "exc_string", None) if result else None

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        ids = [i.decode() for i in self.redis.zrevrange(JOBS_KEY, 0, max(0, limit - 1))]
        views = []
        for job_id in ids:
            try:
                views.append(self.describe(job_id))
            except JobNotFound:
                self.redis.zrem(JOBS_KEY, job_id)
        return views

    # --- cancel -----------------------------------------------------------------------
    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.fetch(job_id)
        self._check_lost(job)
        state = self.state(job)
        if state in TERMINAL:
            raise JobConflict(f"job {job_id} is already {state}")
        self.redis.set(CANCEL_KEY.format(id=job_id), "1", ex=int(self.settings.job_ttl_days * 86400))
        if state == "queued":
            job.cancel()
        job.refresh()
        return self._view(job)

    # --- dead workers -----------------------------------------------------------------
    def _check_lost(self, job: Job) -> None:
        if job.get_status(refresh=False) != JobStatus.STARTED:
            return
        if self.redis.exists(HEARTBEAT_KEY.format(id=job.id)):
            return
        started = job.started_at.timestamp() if job.started_at else time.time()
        # The heartbeat starts a moment after RQ marks the job started: allow the timeout from the start.
        if time.time() - started < self.settings.heartbeat_timeout_s:
            return
        reason = (
            f"worker lost: no heartbeat from job {job.id} for {self.settings.heartbeat_timeout_s:.0f}s "
            f"(worker {job.worker_name or '?'} died or was killed)"
        )
        mark_failed(self.redis, job, reason)

    def sweep(self) -> list[str]:
        """Fail every started job whose heartbeat expired; return their ids."""
        failed = []
        for job_id in StartedJobRegistry(queue=self.queue).get_job_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=self.redis)
            except NoSuchJobError:
                continue
            self._check_lost(job)
            if job.get_status(refresh=True) == JobStatus.FAILED:
                failed.append(job_id)
        return failed


def mark_failed(connection: redis.Redis, job: Job, reason: str) -> None:
    """Move a started job to RQ's failed registry with `reason` (also kept beside it for the API)."""
    queue = Queue(job.origin, connection=connection)
    connection.set(LOST_KEY.format(id=job.id), reason, ex=90 * 86400)
    with connection.pipeline() as pipe:
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        StartedJobRegistry(queue=queue).remove_executions(job, pipeline=pipe)
        FailedJobRegistry(queue=queue).add(job, ttl=job.failure_ttl, exc_string=reason, pipeline=pipe)
        pipe.execute()
