"""Benchmark: would batching frames of concurrent streams lower the per-frame cost on CPU?

The served LiteRT file (int8 by default, XNNPACK, one thread, as INFERENCE_NUM_THREADS=1) is
invoked in-process on batches of 1, 2, 4, 8 and 16 edge-pre-processed frames (the input resized
to the batch, as a batching server would), blocks of each size alternating so all see the same
machine noise.
  cpu_batch1_ms_per_frame .. cpu_batch16_ms_per_frame  p50 invoke time per frame at that batch
A batch size helps only if its per-frame figure is clearly below batch 1's; the inference server
batches on the TensorFlow backend (GPU) only, because on CPU it does not (docs/benchmarks.md).
"""

from __future__ import annotations

import shutil
import time

import numpy as np
from play_stack import game_frame, make_versions, served_tflite

from tensorkart_core.preprocess import DEFAULT_SPEC

VERSION = "bench-cpu-batch"
SIZES = (1, 2, 4, 8, 16)
FRAMES_PER_BLOCK = 32
BLOCKS = 12


def run() -> dict[str, float]:
    from ai_edge_litert.interpreter import Interpreter

    data_root = make_versions([VERSION])
    try:
        path = served_tflite(data_root, VERSION)
        model_input = DEFAULT_SPEC.to_model_input(DEFAULT_SPEC.prepare(game_frame(2)))
        calls = {}
        for size in SIZES:
            interpreter = Interpreter(model_path=str(path), num_threads=1)
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
            calls[size] = invoke
        per_frame: dict[int, list[float]] = {size: [] for size in SIZES}
        for block in range(BLOCKS + 1):
            for size, invoke in calls.items():
                for _ in range(max(1, FRAMES_PER_BLOCK // size)):
                    started = time.perf_counter_ns()
                    invoke()
                    if block:  # the first block warms up
                        per_frame[size].append((time.perf_counter_ns() - started) / size / 1e6)
    finally:
        shutil.rmtree(data_root, ignore_errors=True)
    return {f"cpu_batch{size}_ms_per_frame": round(float(np.median(per_frame[size])), 4) for size in SIZES}


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
