"""Reads N frames from an emulator's frame feed and checks them: `make n64-image` runs it inside the
n64 image against a container playing a homebrew ROM, to show frames flowing out of the container.

    python tools/n64_feed_check.py HOST:PORT [FRAMES]

Waits until the feed answers health, takes FRAMES messages (default 120), and exits 0 when they are
numbered without gaps, are 640x480 pictures, and not all blank; prints one JSON line with the figures.
"""

from __future__ import annotations

import itertools
import json
import sys
import time

import numpy as np

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.health import wait_until_serving
from tensorkart_core.images import decode_frame
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc


def main(address: str, wanted: int) -> int:
    if not wait_until_serving(address, timeout=90):
        print(f"n64_feed_check: {address} did not answer health within 90 s", file=sys.stderr)
        return 1
    numbers: list[int] = []
    lit = 0
    started = time.monotonic()
    with make_channel(address) as channel:
        stub = simulator_pb2_grpc.SimulatorStub(channel)
        stream = stub.StreamFrames(simulator_pb2.StreamFramesRequest(), timeout=120)
        for message in stream:
            if not message.HasField("frame"):
                break
            rgb = decode_frame(message.frame)
            numbers.append(message.frame.game_frame)
            lit += int(np.any(rgb))
            shape = rgb.shape
            if len(numbers) >= wanted:
                stream.cancel()
                break
    seconds = time.monotonic() - started
    gaps = sum(1 for a, b in itertools.pairwise(numbers) if b != a + 1)
    report = {
        "frames": len(numbers),
        "first": numbers[0] if numbers else None,
        "last": numbers[-1] if numbers else None,
        "gaps": gaps,
        "not_blank": lit,
        "size": f"{shape[1]}x{shape[0]}" if numbers else None,
        "fps": round(len(numbers) / seconds, 1),
    }
    print(json.dumps(report), flush=True)
    ok = len(numbers) == wanted and gaps == 0 and lit > 0 and report["size"] == "640x480"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 120))
