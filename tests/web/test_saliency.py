"""GET /v1/models/{version}/saliency on a dataset frame against a real trainer process: a PNG of
the frame with the VisualBackProp mask, computed by TensorFlow in the API's child process; bad
requests named."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from tests.trainer.tinydata import make_dataset


def test_saliency_of_a_dataset_frame(start_api, trainer_env, data_root: Path, legacy_model: str) -> None:
    make_dataset(data_root, "sal", frames=4, width=320, height=240)
    start_api()
    url = f"{trainer_env['TRAINER_URL']}/v1/models"

    answer = httpx.get(f"{url}/{legacy_model}/saliency", params={"dataset": "sal", "index": 2}, timeout=180)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    overlay = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB"))
    assert overlay.shape == (240, 320, 3)  # the legacy spec uses the whole frame
    frame = np.asarray(Image.open(data_root / "samples" / "sal" / "img_2.png").convert("RGB"))
    changed = np.abs(overlay.astype(int) - frame.astype(int)).sum(axis=2) > 0
    assert 0.0 < changed.mean() < 1.0  # red where the mask is high, the frame as it was where it is 0
    assert (overlay[..., 0].astype(int) >= frame[..., 0].astype(int) - 1).all()  # it only adds red (±rounding)

    missing = httpx.get(f"{url}/{legacy_model}/saliency", params={"dataset": "sal", "index": 9}, timeout=30)
    assert missing.status_code == 404 and "has 4 frames" in missing.json()["detail"]
    assert httpx.get(f"{url}/{legacy_model}/saliency", timeout=30).status_code == 422
    unknown = httpx.get(f"{url}/nope/saliency", params={"session": "s"}, timeout=30)
    assert unknown.status_code == 404 and "no model version 'nope'" in unknown.json()["detail"]
    no_live = httpx.get(f"{url}/{legacy_model}/saliency", params={"session": "gone"}, timeout=30)
    assert no_live.status_code == 404 and "no live frames" in no_live.json()["detail"]
