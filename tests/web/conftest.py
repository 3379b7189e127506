"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser), a real trainer
API, and for the live view a real play stack (inference, controller, practice track, relay)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inference.conftest import model_bank, start_inference  # noqa: F401 - shared fixtures
from tests.play.conftest import start_controller  # noqa: F401 - shared fixture
from tests.trainer.conftest import start_api, start_worker, trainer_env, trainer_redis_url  # noqa: F401

CHROMIUM = os.environ.get("TENSORKART_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Headless Chromium (Debian's package) under Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium package (apt-get install -y chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"the page raised JavaScript errors: {errors}"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where tests save their screenshots: WEB_SCREENSHOTS (e.g. docs/ to refresh the docs), else tmp."""
    folder = Path(os.environ.get("WEB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def legacy_model(data_root: Path, tmp_path: Path):
    """A registered model version (random PilotNet weights through `models import`'s path); its version."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tensorkart_trainer.legacy import import_weights, write_keras2_h5
    from tensorkart_trainer.pilotnet import build_pilotnet

    weights = tmp_path / "model_weights.h5"
    write_keras2_h5(build_pilotnet(5), weights)
    return import_weights(weights, data_root)
