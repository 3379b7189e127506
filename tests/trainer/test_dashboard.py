"""The dashboard in headless Chromium against a real trainer process: datasets, jobs, models render."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.trainer.tinydata import make_dataset

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium, no network beyond loopback, a fresh profile."""
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)")
def test_dashboard_renders_in_chromium(start_api, trainer_env, data_root: Path, tmp_path: Path) -> None:
    from tensorkart_core.registry import ModelRegistry
    from tensorkart_trainer.legacy import import_weights, write_keras2_h5
    from tensorkart_trainer.pilotnet import build_pilotnet

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    make_dataset(data_root, "luigi-raceway-1", frames=12, width=320, height=240)
    make_dataset(data_root, "luigi-raceway-2", frames=6, seed=4, width=320, height=240)
    weights = tmp_path / "model_weights.h5"
    write_keras2_h5(build_pilotnet(5), weights)
    version = import_weights(weights, data_root)
    ModelRegistry.from_url(data_root, trainer_env["REDIS_URL"]).promote(version)
    start_api()
    import httpx

    url = trainer_env["TRAINER_URL"]
    job = httpx.post(f"{url}/v1/jobs", json={"datasets": ["luigi-*"], "epochs": 1}).json()["id"]

    done = chromium(f"{url}/", tmp_path / "profile", "--dump-dom")
    dom = done.stdout
    assert 'data-loaded="yes"' in dom, done.stderr[-2000:]
    assert "luigi-raceway-1" in dom and "luigi-raceway-2" in dom
    assert 'aria-label="steering histogram"' in dom
    assert 'data-sheet="luigi-raceway-1"' in dom
    assert job[:8] in dom and "queued" in dom
    assert "tensorboard --logdir " in dom  # each job names its TensorBoard log
    assert version in dom and "active" in dom
    assert "Roll back" in dom

    shot = tmp_path / "dashboard.png"
    chromium(f"{url}/", tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.stat().st_size > 10_000
