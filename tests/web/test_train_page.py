"""Start work from the page: the Train tab's form (built from the API's schema, a 422 shown next to
its field), a job that runs on a real worker and is followed live, two models compared, a promotion
— all through the REST API with the bearer token the CLI uses, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.trainer.tinydata import make_dataset

TOKEN = "web-test-token"


def test_a_job_started_from_the_page_runs_is_compared_and_promoted(
    start_api, start_worker, trainer_env, data_root: Path, legacy_model: str, page, screenshots
):
    make_dataset(data_root, "luigi-raceway-1", frames=24, width=320, height=240)
    make_dataset(data_root, "twists-1", frames=12, seed=3, width=320, height=240)
    imported = legacy_model
    start_api(TENSORKART_TOKEN=TOKEN)
    start_worker(TENSORKART_TOKEN=TOKEN)
    url = trainer_env["TRAINER_URL"]
    auth = {"Authorization": f"Bearer {TOKEN}"}

    page.goto(f"{url}/#train")
    page.fill("#token", TOKEN)
    page.dispatch_event("#token", "change")
    page.click("nav button[data-tab=train]")
    page.wait_for_selector("#train-datasets input[value='luigi-raceway-1']")
    # defaults come from the API's schema
    assert page.input_value("#f-epochs") == "10" and page.input_value("#f-batch_size") == "50"
    assert page.input_value("#f-augmentation-flip") == "0.5" and page.is_checked("#f-evaluate")
    page.check("#train-datasets input[value='luigi-raceway-1']")

    # the API's validation error appears next to its field, and nothing is queued
    page.fill("#f-epochs", "0")
    page.click("#train-submit")
    error = page.locator(".field-error[data-error='epochs']")
    error.wait_for(state="visible")
    page.wait_for_function("document.querySelector(\".field-error[data-error='epochs']\").textContent.length > 0")
    assert "greater than or equal to 1" in error.inner_text()
    assert httpx.get(f"{url}/v1/jobs", headers=auth).json() == []

    page.fill("#f-epochs", "2")
    page.fill("#f-batch_size", "8")
    page.fill("#f-eval_laps", "1")
    page.click("#train-submit")
    page.wait_for_selector("#follow-state[data-state=running], #follow-state[data-state=finished]", timeout=120_000)
    assert error.inner_text() == ""
    page.wait_for_selector("#follow-state[data-state=finished]", timeout=300_000)
    version = page.inner_text("#follow-model")
    assert page.locator("#follow svg[aria-label='loss curve'] polyline").count() >= 1  # the loss plot rendered
    jobs = httpx.get(f"{url}/v1/jobs", headers=auth).json()
    assert len(jobs) == 1 and jobs[0]["model_version"] == version and jobs[0]["datasets"] == ["luigi-raceway-1"]
    assert jobs[0]["progress"]["epochs"] == 2
    page.screenshot(path=str(screenshots / "train-page.png"))

    # compare the new model with the imported one, side by side, then promote the new one
    page.click("button[data-compare]")
    page.select_option("#cmp-a", imported)
    page.wait_for_selector("svg[aria-label='metrics comparison']")
    table = page.inner_text("#compare")
    assert version in table and imported in table and "val_loss" in table and "luigi-raceway-1" in table
    page.screenshot(path=str(screenshots / "compare-page.png"))
    page.click(f"button[data-cmp-promote='{version}']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare .badge.s-active')].length === 1"
        f" && !document.querySelector(\"button[data-cmp-promote='{version}']\")"
    )
    assert httpx.get(f"{url}/v1/models", headers=auth).json()["active"] == version
