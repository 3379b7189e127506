"""The Curate tab in headless Chromium against the real trainer: the timeline plot renders, hovering
shows frames, a range dragged on the plot is soft-deleted (training then sees fewer frames) and
restored, and a model's predicted steering is drawn over the recorded one."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.trainer.tinydata import make_dataset

FRAMES = 30


def _job_frames(url: str, job_id: str) -> int:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        view = httpx.get(f"{url}/v1/jobs/{job_id}").json()
        if view["state"] in ("finished", "failed", "canceled"):
            assert view["state"] == "finished", view.get("error")
            return view["metrics"]["train_frames"] + view["metrics"]["validation_frames"]
        time.sleep(0.5)
    raise AssertionError("the training job did not end")


def _drag(page, start: int, end: int) -> None:
    """Drag over the plot from frame `start` to frame `end` (the plot's own geometry, curate.js PAD)."""
    box = page.locator("#cur-plot").bounding_box()
    scale = box["width"] / 900

    def x(i: int) -> float:
        return box["x"] + (40 + i / (FRAMES - 1) * (900 - 50)) * scale

    y = box["y"] + 100 * scale
    page.mouse.move(x(start), y)
    page.mouse.down()
    page.mouse.move(x((start + end) // 2), y)
    page.mouse.move(x(end), y)
    page.mouse.up()


def test_curation_timeline_range_delete_restore_and_predictions(
    start_api, start_worker, trainer_env, data_root: Path, legacy_model: str, page, screenshots
):
    make_dataset(data_root, "curate", frames=FRAMES, width=320, height=240)
    version = legacy_model
    start_api()
    start_worker()
    url = trainer_env["TRAINER_URL"]
    train = {"datasets": ["curate"], "epochs": 1, "batch_size": 8, "evaluate": False}

    page.goto(f"{url}/#curate")
    page.wait_for_selector(f"#cur-plot[data-drawn='{FRAMES}']")
    assert f"{FRAMES} frames" in page.inner_text("#cur-summary")
    page.locator("#cur-plot").hover(position={"x": 400, "y": 100})
    page.wait_for_selector("#cur-frame[data-index]")  # the hovered frame's image, from the API
    assert "frame " in page.inner_text("#cur-frame-info")

    _drag(page, 10, 19)
    selected = page.inner_text("#cur-range")
    assert selected == "frames 10 to 19 selected", selected
    page.click("#cur-delete")
    page.wait_for_function("document.getElementById('cur-summary').textContent.includes('10 deleted')")
    timeline = httpx.get(f"{url}/v1/datasets/curate/timeline").json()
    assert timeline["deleted_count"] == 10 and timeline["frames"]["deleted"][10:20] == [True] * 10
    job = httpx.post(f"{url}/v1/jobs", json=train).json()["id"]
    assert _job_frames(url, job) == FRAMES - 10  # training no longer sees the deleted range

    page.select_option("#cur-model", version)
    page.wait_for_function(f"() => cur.predictions && cur.predictions.index.length === {FRAMES}")
    page.screenshot(path=str(screenshots / "curate-page.png"))

    _drag(page, 10, 19)
    page.click("#cur-restore")
    page.wait_for_function("document.getElementById('cur-summary').textContent.includes(' 0 deleted')")
    assert httpx.get(f"{url}/v1/datasets/curate/timeline").json()["deleted_count"] == 0
    job = httpx.post(f"{url}/v1/jobs", json=train).json()["id"]
    assert _job_frames(url, job) == FRAMES  # restored frames are trained on again
