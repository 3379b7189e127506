"""Batching on the event loop (loop_batch.LoopBatcher + frames.run_frames) with a real LiteRT model:
frames of concurrent streams run together, each answered with its own outputs, a bad frame
fails alone."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tensorkart_core.images import FrameError, encode_frame
from tensorkart_core.preprocess import DEFAULT_SPEC
from tensorkart_inference.frames import run_frames
from tensorkart_inference.hotswap import ModelHolder
from tensorkart_inference.loop_batch import LoopBatcher
from tensorkart_inference.models import load_model
from tensorkart_inference.settings import InferenceSettings
from tests.inference.modelbank import install, litert_outputs, test_frame


@pytest.fixture
def holder(model_bank: Path, data_root: Path) -> ModelHolder:
    install(model_bank, data_root, "va")
    holder = ModelHolder()
    holder.install(load_model(data_root, "va", InferenceSettings(_env_file=None)))
    return holder


def edge_frames(count: int) -> list:
    return [
        encode_frame(DEFAULT_SPEC.prepare(test_frame(seed)), seed + 1, 1000 + seed, preprocess_id=DEFAULT_SPEC.id)
        for seed in range(count)
    ]


def test_waiting_frames_run_together_each_answered_with_its_own_outputs(holder, data_root):
    frames = edge_frames(24)
    with ThreadPoolExecutor(2) as executor:
        batcher = LoopBatcher(executor, lambda batch: run_frames(batch, holder), jobs=2, max_batch=8)
        # Both model threads wait until every frame is queued, as under load: on a busy machine an
        # idle thread could otherwise take the frames one by one while the loop is still queueing.
        queued = threading.Event()
        for _ in range(2):
            executor.submit(queued.wait, 30)

        async def all_at_once():
            answers = [batcher.run(frame) for frame in frames]
            queued.set()
            return await asyncio.gather(*answers)

        answers = asyncio.run(all_at_once())
    # the first two frames start a model thread each; they take what is queued, <= 8 at a time
    assert batcher.frames == 24 and batcher.batches < 24 // 2
    for frame, answer in zip(frames, answers, strict=True):
        assert (answer.frame_sequence, answer.capture_time_ns) == (frame.sequence, frame.capture_time_ns)
        expected = litert_outputs(
            data_root, "va", DEFAULT_SPEC.to_model_input(DEFAULT_SPEC.prepare(test_frame(frame.sequence - 1)))
        )
        np.testing.assert_allclose(answer.outputs, expected, rtol=1e-5, atol=1e-6)
        assert answer.model_version == "va" and answer.server_time_ns > 0


def test_a_bad_frame_fails_alone_and_a_lone_frame_starts_at_once(holder):
    frames = edge_frames(4)
    frames[2].width = 7  # pre-processed at the wrong size
    with ThreadPoolExecutor(1) as executor:
        batcher = LoopBatcher(executor, lambda batch: run_frames(batch, holder), jobs=1, max_batch=8)

        async def scenario():
            lone = await batcher.run(frames[0])  # nothing else waits: a batch of one, at once
            assert batcher.batches == 1
            return lone, await asyncio.gather(*(batcher.run(frame) for frame in frames), return_exceptions=True)

        lone, answers = asyncio.run(scenario())
    assert lone.frame_sequence == 1
    assert isinstance(answers[2], FrameError) and "pre-processed frame is 7x66" in str(answers[2])
    assert [answers[i].frame_sequence for i in (0, 1, 3)] == [1, 2, 4]
