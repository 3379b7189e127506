"""The live tap in the relay service as `docker compose up` runs it (`python -m tensorkart_capture.relay
--source sim --sim-address ...` on the practice track's frame feed, the same feed the emulator
frontend serves for the n64 profile): its frames reach the trainer's /v1/live routes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.inference.modelbank import install


def test_relay_service_publishes_live_frames(
    model_bank: Path, data_root: Path, start_inference, start_controller, start_service, start_api, trainer_env
) -> None:
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller()
    start_api()
    simulator = start_service(
        "tensorkart_simulator",
        {"SIMULATOR_METRICS_PORT": "0", "SIMULATOR_HOST": "127.0.0.1"},
        grpc=True,
        args=["run", "--headless", "--realtime", "--driver", "controller", "--track", "luigi",
              "--input-bot", f"http://127.0.0.1:{controller.http_port}", "--feed",
              "--wait-for-subscriber", "--max-seconds", "30"],
    )  # fmt: skip
    feed = simulator.address("grpc")
    env = {**os.environ, "REDIS_URL": trainer_env["REDIS_URL"], "LIVE_ENABLED": "1", "LIVE_FPS": "8"}
    relay = subprocess.Popen(
        [sys.executable, "-m", "tensorkart_capture.relay", "--source", "sim", "--quiet",
         "--sim-address", feed, "--inference", address, "--controller", controller.address,
         "--session", "compose-relay", "--seconds", "12", "--no-record-interventions"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = trainer_env["TRAINER_URL"]
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(seen) < 10:
            answer = httpx.get(f"{url}/v1/live/compose-relay", timeout=5)
            if answer.status_code == 200:
                meta = answer.json()
                seen.add(meta["seq"])
            time.sleep(0.1)
        assert len(seen) >= 10, "the relay service published fewer than 10 live frames"
        assert meta["model_version"] == "va" and meta["sim"] is not None and meta["width"] == 640
        frame = httpx.get(f"{url}/v1/live/compose-relay/frame.jpg", timeout=5)
        assert frame.headers["content-type"] == "image/jpeg" and frame.content[:2] == b"\xff\xd8"
    finally:
        _out, err = relay.communicate(timeout=60)
    assert relay.returncode == 0, err[-2000:]
