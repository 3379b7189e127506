"""Frames of concurrent streams handed to the model threads together (batching on the event loop).

Handing one frame to a model thread and its answer back costs CPU of its own: an executor
submit, a thread wake-up, and a self-pipe write + event-loop wake-up to return the result
(~0.1 ms of CPU per frame here, a large share of a frame whose int8 invoke takes ~0.25 ms). Under
load frames of many streams wait at once, so they travel together: a frame is queued on the loop;
while fewer than `jobs` batches are running a batch is started at once with every frame queued
so far (at most `max_batch`), and when a batch ends the next one takes what queued meanwhile.
One hand-off and one wake-up per batch instead of per frame. A lone stream's frame still starts
at once (batch of one, nothing waits for a batch to fill), so the play loop pays nothing for it.

Each frame is answered on its own: a frame that cannot run (malformed, spec mismatch, no model)
fails only its own future, the batch's other frames are answered normally (frames.run_frames).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

from tensorkart_core.proto.v1 import types_pb2
from tensorkart_inference import metrics

RunFrames = Callable[[Sequence[types_pb2.Frame]], list]  # one Steering or exception per frame


class LoopBatcher:
    """Collects frames on the event loop, runs them `max_batch` at a time in `executor`."""

    def __init__(self, executor: Executor, run_frames: RunFrames, jobs: int, max_batch: int) -> None:
        self._executor = executor
        self._run_frames = run_frames
        self._jobs = jobs
        self._max_batch = max_batch
        self._queued: list[tuple[types_pb2.Frame, asyncio.Future]] = []
        self._running = 0  # batches in the executor now
        self.batches = 0  # batches started (a count for tests and benchmarks)
        self.frames = 0  # frames run

    def run(self, frame: types_pb2.Frame) -> asyncio.Future:
        """Queue `frame`; the future resolves to its Steering or raises its error."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._queued.append((frame, answer))
        if self._running < self._jobs:
            self._start(loop)
        return answer

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._queued[: self._max_batch]
        del self._queued[: self._max_batch]
        self._running += 1
        self.batches += 1
        self.frames += len(batch)
        metrics.BATCH_FRAMES.observe(len(batch))
        job = self._executor.submit(self._run_frames, [frame for frame, _ in batch])
        job.add_done_callback(lambda done: loop.call_soon_threadsafe(self._finish, loop, batch, done))

    def _finish(self, loop: asyncio.AbstractEventLoop, batch: list, done: Future) -> None:
        self._running -= 1
        try:
            results = done.result()
        except Exception as error:  # the batch itself failed (a bug): every frame gets the error
            results = [error] * len(batch)
        for (_, answer), result in zip(batch, results, strict=True):
            if answer.done():  # the stream ended while its frame ran
                continue
            if isinstance(result, BaseException):
                answer.set_exception(result)
            else:
                answer.set_result(result)
        while self._queued and self._running < self._jobs:
            self._start(loop)
