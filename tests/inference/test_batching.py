"""Dynamic batching (TensorFlow backend): concurrent frames run as one batch, each caller gets its row."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tensorkart_inference.batching import DynamicBatcher


def test_concurrent_inputs_are_batched_and_answered_with_their_own_rows():
    sizes: list[int] = []

    def run_batch(batch: np.ndarray) -> np.ndarray:
        sizes.append(len(batch))
        return batch.reshape(len(batch), -1).sum(axis=1, keepdims=True) * 2

    batcher = DynamicBatcher(run_batch, max_batch=4, max_wait_s=0.2)
    inputs = [np.full((3, 2), i, dtype=np.float32) for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        rows = list(pool.map(batcher, inputs))
    batcher.close()
    assert [float(row[0]) for row in rows] == [i * 6 * 2.0 for i in range(12)]
    assert sum(sizes) == 12 and max(sizes) <= 4 and max(sizes) > 1


def test_a_failing_batch_fails_each_of_its_callers_and_the_batcher_goes_on():
    calls = []

    def run_batch(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("device lost")
        return batch[:, :1]

    batcher = DynamicBatcher(run_batch, max_batch=8, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="device lost"):
        batcher(np.ones((2,), dtype=np.float32))
    assert float(batcher(np.full((2,), 5.0, dtype=np.float32))[0]) == 5.0
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher(np.ones((2,), dtype=np.float32))


def test_inputs_handed_over_together_join_one_batch_and_come_back_in_order():
    sizes: list[int] = []

    def run_batch(batch: np.ndarray) -> np.ndarray:
        sizes.append(len(batch))
        return batch[:, :1] * 3

    batcher = DynamicBatcher(run_batch, max_batch=8, max_wait_s=0.05)
    rows = batcher.run_many([np.full((2,), i, dtype=np.float32) for i in range(5)])
    batcher.close()
    assert rows.shape == (5, 1) and [float(r[0]) for r in rows] == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert sizes == [5]
