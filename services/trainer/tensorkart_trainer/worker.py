"""Entry point of a training worker: an RQ worker on the trainer's queue (`python -m tensorkart_trainer.worker`).

Each job runs in a forked work horse, so TensorFlow is imported per job and all its
memory is returned when the job ends; the worker process itself never imports it.
"""

from __future__ import annotations

import os

import redis
from rq import Worker

from tensorkart_core.logs import setup_logging
from tensorkart_core.settings import load_settings
from tensorkart_trainer.settings import TrainerSettings


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    settings = load_settings(TrainerSettings)
    setup_logging("trainer-worker", settings.log_level)
    connection = redis.Redis.from_url(settings.redis_url)
    # RQ's warm shutdown on SIGTERM lets the current job finish its step, then exits.
    Worker([settings.queue], connection=connection).work(with_scheduler=False)


if __name__ == "__main__":
    main()
