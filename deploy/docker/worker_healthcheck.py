#!/usr/bin/env python
"""Health probe of a training worker container: exit 0 when an RQ worker started on this host
(container hostname) is registered on the trainer's queue in Redis, 1 otherwise.

RQ removes a worker's registration when it stops and lets it expire when it dies without
heartbeats, so "registered" means "alive and connected to the queue".
"""

from __future__ import annotations

import os
import socket
import sys

import redis
from rq import Queue, Worker


def main() -> int:
    url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    queue_name = os.environ.get("TRAINER_QUEUE") or "tensorkart-training"
    try:
        connection = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        workers = Worker.all(connection=connection, queue=Queue(queue_name, connection=connection))
    except (redis.RedisError, OSError) as error:
        print(f"redis unreachable at {url}: {error}")
        return 1
    host = socket.gethostname()
    mine = [w for w in workers if w.hostname == host]
    print(f"{len(mine)} worker(s) of {host} on queue {queue_name} ({len(workers)} in all)")
    return 0 if mine else 1


if __name__ == "__main__":
    sys.exit(main())
