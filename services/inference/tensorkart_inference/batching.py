"""Dynamic batching: frames from concurrent streams run through the model together.

Used with the TensorFlow backend on a GPU host, where one batch of N frames costs about
as much as one frame. Each caller submits one input and blocks on its own future; a
single worker thread takes the first waiting input, gathers more until `max_batch` or
`max_wait_s` has passed, runs them as one batch and hands each caller its row.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np

BatchFn = Callable[[np.ndarray], np.ndarray]


class DynamicBatcher:
    """Collects single inputs into batches for `run_batch` (N, ...) -> (N, k)."""

    def __init__(self, run_batch: BatchFn, max_batch: int = 8, max_wait_s: float = 0.002, name: str = "batcher"):
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue[tuple[np.ndarray, Future] | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, single: np.ndarray) -> Future:
        future: Future = Future()
        if self._closed:
            future.set_exception(RuntimeError("batcher is closed"))
            return future
        self._queue.put((single, future))
        return future

    def __call__(self, single: np.ndarray) -> np.ndarray:
        return self.submit(single).result()

    def run_many(self, inputs: Sequence[np.ndarray]) -> np.ndarray:
        """Several inputs at once (frames the server handed over together): all join the
        batches being gathered, (N, k) once all are run."""
        futures = [self.submit(single) for single in inputs]
        return np.stack([future.result() for future in futures])

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)

    def _gather(self, first: tuple[np.ndarray, Future]) -> list[tuple[np.ndarray, Future]]:
        batch = [first]
        deadline = time.monotonic() + self._max_wait_s
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # let the loop see the close after this batch
                break
            batch.append(item)
        return batch

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._gather(first)
            try:
                outputs = self._run_batch(np.stack([single for single, _ in batch]))
            except Exception as error:  # every caller of this batch gets the failure
                for _, future in batch:
                    future.set_exception(error)
                continue
            for row, (_, future) in zip(outputs, batch, strict=True):
                future.set_result(row)
