"""The dashboard's live view while `tensorkart play` drives the practice track: real simulator, real
inference, real controller, the real relay with its live tap, the trainer API, headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.inference.modelbank import install

LIVE = "document.getElementById('live-canvas')"


def start_play(env: dict[str, str], controller, seconds: int, session: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tensorkart_cli.main", "play", "--source", "sim", "--headless"]
    command += ["--input-bot", f"http://127.0.0.1:{controller.http_port}", "--seconds", str(seconds)]
    command += ["--session", session, *extra]
    pipe = subprocess.PIPE
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=pipe, stderr=pipe, text=True)


def test_live_view_shows_moving_frames_with_steering_and_saliency(
    model_bank: Path, data_root: Path, start_inference, start_controller, start_api, trainer_env, page, screenshots
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller()
    start_api()
    url = trainer_env["TRAINER_URL"]
    env = {
        "INFERENCE_ADDR": address,
        "CONTROLLER_ADDR": controller.address,
        "TENSORKART_DATA": str(data_root),
        "REDIS_URL": trainer_env["REDIS_URL"],
        "LIVE_ENABLED": "1",
    }
    play = start_play(env, controller, 40, "live-test")
    try:
        page.goto(f"{url}/#live")
        page.wait_for_function(f"Number({LIVE}.dataset.frames || 0) >= 3", timeout=90_000)
        canvas = page.locator("#live-canvas")
        first_seq = int(canvas.get_attribute("data-seq"))
        first = canvas.screenshot()
        page.wait_for_function(f"Number({LIVE}.dataset.seq) > {first_seq} + 30", timeout=30_000)
        second = canvas.screenshot()
        assert first != second, "the live view did not change while the model drove"
        info = page.inner_text("#live-info")
        assert "va" in info and "autonomy" in info and "ms" in info  # model, loop latency, autonomy so far
        assert float(canvas.get_attribute("data-fps")) > 2.0

        # The REST side: the session is listed with its meta; the MJPEG stream serves parts.
        sessions = httpx.get(f"{url}/v1/live").json()["sessions"]
        meta = next(s for s in sessions if s["session"] == "live-test")
        assert meta["model_version"] == "va" and meta["model_x"] is not None and meta["sim"]["sim_seconds"] > 0
        with httpx.stream("GET", f"{url}/v1/live/live-test/stream", timeout=10) as stream:
            assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
            received = b""
            for chunk in stream.iter_bytes():
                received += chunk
                if received.count(b"--tensorkart-live") >= 3:
                    break
        assert received.count(b"Content-Type: image/jpeg") >= 2 and b"\xff\xd8" in received

        # Saliency on demand: VisualBackProp of the current frame for the driving model.
        page.check("#live-saliency")
        page.wait_for_function("document.getElementById('saliency-img').dataset.loaded === 'yes'", timeout=120_000)
        assert "VisualBackProp of va" in page.inner_text("#saliency-caption")
        page.screenshot(path=str(screenshots / "live-view.png"))
    finally:
        play.send_signal(signal.SIGINT)
        out, err = play.communicate(timeout=60)
    assert play.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["models"] == ["va"] and result["answered"] > 0

    # Once the run ends the session says so, and it leaves the list within the activity window.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not httpx.get(f"{url}/v1/live/live-test").json().get("ended"):
        time.sleep(0.1)
    assert httpx.get(f"{url}/v1/live/live-test").json()["ended"] is True
