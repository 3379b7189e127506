"""Benchmark: would batching frames of concurrent streams lower the per-frame cost on CPU?

The served LiteRT file (int8 by default, XNNPACK, one thread, as INFERENCE_NUM_THREADS=1) is
invoked in-process on batches of 1, 2, 4, 8, 16 and 32 edge-pre-processed frames (the input
resized to the batch, as a batch-N interpreter would be), blocks of each size alternating so all
see the same machine noise; batch 1 also with 2 XNNPACK threads.
  cpu_batch1_ms_per_frame .. cpu_batch32_ms_per_frame  p50 invoke time per frame at that batch
  cpu_batch1_cpu_ms_per_frame .. cpu_batch32_cpu_ms_per_frame  CPU time (this thread and XNNPACK's)
                                                   per frame at that batch, over all blocks
  cpu_batch1_threads2_ms_per_frame / _cpu_ms_per_frame  batch 1 with INFERENCE_NUM_THREADS=2
A batch size helps only if its per-frame figure is clearly below batch 1's. It does not on this
model on CPU (docs/benchmarks.md), so the server batches the hand-off of concurrent streams'
frames to a model thread (loop_batch.py) and invokes them one by one at batch 1.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
from play_stack import game_frame, make_versions, served_tflite

from tensorkart_core.preprocess import DEFAULT_SPEC

VERSION = "bench-cpu-batch"
SIZES = (1, 2, 4, 8, 16, 32)
CONFIGS = [(size, 1) for size in SIZES] + [(1, 2)]  # (batch, XNNPACK threads)
FRAMES_PER_BLOCK = 32
BLOCKS = 12


def run() -> dict[str, float]:
    from ai_edge_litert.interpreter import Interpreter

    data_root = make_versions([VERSION])
    try:
        path = served_tflite(data_root, VERSION)
        model_input = DEFAULT_SPEC.to_model_input(DEFAULT_SPEC.prepare(game_frame(2)))
        calls = {}
        for size, threads in CONFIGS:
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            (inp,) = interpreter.get_input_details()
            interpreter.resize_tensor_input(inp["index"], [size, *model_input.shape])
            interpreter.allocate_tensors()
            (out,) = interpreter.get_output_details()
            batch = np.repeat(model_input[np.newaxis], size, axis=0)

            def invoke(interpreter=interpreter, inp=inp["index"], out=out["index"], batch=batch) -> None:
                interpreter.set_tensor(inp, batch)
                interpreter.invoke()
                interpreter.get_tensor(out)

            invoke()
            calls[(size, threads)] = invoke
        per_frame: dict[tuple[int, int], list[float]] = {config: [] for config in CONFIGS}
        cpu_s = dict.fromkeys(CONFIGS, 0.0)
        for block in range(BLOCKS + 1):
            for (size, threads), invoke in calls.items():
                cpu_started = time.process_time()
                for _ in range(max(1, FRAMES_PER_BLOCK // size)):
                    started = time.perf_counter_ns()
                    invoke()
                    if block:  # the first block warms up
                        per_frame[(size, threads)].append((time.perf_counter_ns() - started) / size / 1e6)
                if block:
                    cpu_s[(size, threads)] += time.process_time() - cpu_started
    finally:
        shutil.rmtree(data_root, ignore_errors=True)
    result = {}
    for (size, threads), values in per_frame.items():
        key = f"cpu_batch{size}" + ("_threads2" if threads == 2 else "")
        result[f"{key}_ms_per_frame"] = round(float(np.median(values)), 4)
        result[f"{key}_cpu_ms_per_frame"] = round(cpu_s[(size, threads)] * 1e3 / (len(values) * size), 4)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
