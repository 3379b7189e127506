"""Frames of concurrent streams handed to the model threads together.

Handing one frame to a model thread and its answer back costs CPU of its own: an executor
submit, a thread wake-up, and a self-pipe write + event-loop wake-up to return the result
(~0.1 ms of CPU per frame here, a large share of a frame whose int8 invoke takes ~0.25 ms). Under
load frames of many streams wait at once, so they travel together: the event loop queues each
frame; a model thread takes every frame queued (at most `max_batch`), runs them, hands the
answers back to the loop in one call, and takes the next frames queued meanwhile without waiting
for the loop; at most `jobs` threads do so at once, and a thread ends when nothing is queued.
One wake-up each way per batch instead of per frame. A lone stream's frame still starts at once
(a batch of one, nothing waits for a batch to fill), so the play loop pays nothing for it.

Each frame is answered on its own: a frame that cannot run (malformed, spec mismatch, no model)
fails only its own future, the batch's other frames are answered normally (frames.run_frames).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from tensorkart_core.proto.v1 import types_pb2
from tensorkart_inference import metrics

RunFrames = Callable[[Sequence[types_pb2.Frame]], list]  # one Steering or exception per frame
Queued = tuple[types_pb2.Frame, asyncio.Future]


class LoopBatcher:
    """Collects frames from the event loop; up to `jobs` model threads run them `max_batch` at a time."""

    def __init__(self, executor: Executor, run_frames: RunFrames, jobs: int, max_batch: int) -> None:
        self._executor = executor
        self._run_frames = run_frames
        self._jobs = jobs
        self._max_batch = max_batch
        self._lock = threading.Lock()  # guards _queued and _working (the loop adds, model threads take)
        self._queued: deque[Queued] = deque()
        self._working = 0  # model threads taking batches now
        self.batches = 0  # batches run (a count for tests and benchmarks)
        self.frames = 0  # frames run

    def run(self, frame: types_pb2.Frame) -> asyncio.Future:
        """Queue `frame`; the future resolves to its Steering or raises its error."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        with self._lock:
            self._queued.append((frame, answer))
            start = self._working < self._jobs
            self._working += start
        if start:
            self._executor.submit(self._work, loop)
        return answer

    def _work(self, loop: asyncio.AbstractEventLoop) -> None:
        """A model thread: batches of what is queued until nothing is."""
        while True:
            with self._lock:
                if not self._queued:
                    self._working -= 1
                    return
                batch = [self._queued.popleft() for _ in range(min(len(self._queued), self._max_batch))]
                self.batches += 1
                self.frames += len(batch)
            metrics.BATCH_FRAMES.observe(len(batch))
            try:
                results = self._run_frames([frame for frame, _ in batch])
            except Exception as error:  # the batch itself failed (a bug): every frame gets the error
                results = [error] * len(batch)
            loop.call_soon_threadsafe(_deliver, batch, results)


def _deliver(batch: list[Queued], results: list) -> None:
    """On the loop: each frame's answer (or error) to its stream."""
    for (_, answer), result in zip(batch, results, strict=True):
        if answer.done():  # the stream ended while its frame ran
            continue
        if isinstance(result, BaseException):
            answer.set_exception(result)
        else:
            answer.set_result(result)
