"""The dashboard's curation endpoints on a running trainer (real Redis, real files, real TensorFlow):
timeline, frames, soft delete and restore (training honours both), predicted-vs-recorded steering."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from tensorkart_core import datasets as ds
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.registry import model_dir, read_metadata
from tests.trainer.conftest import wait_for
from tests.trainer.tinydata import make_dataset

FRAMES = 16
TOKEN = "curation-secret"


def _train(url: str, headers: dict[str, str]) -> dict:
    body = {"datasets": ["curate"], "epochs": 1, "batch_size": 4, "evaluate": False, "validation_split": 0.25}
    answer = httpx.post(f"{url}/v1/jobs", json=body, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]

    def ended():
        view = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        return view if view["state"] in ("finished", "failed", "canceled") else None

    view = wait_for(ended, timeout=300, what="training job")
    assert view["state"] == "finished", view.get("error")
    return view


def test_curation_endpoints_and_training_honours_soft_delete(start_api, start_worker, trainer_env, data_root: Path):
    make_dataset(data_root, "curate", frames=FRAMES, width=160, height=120)
    start_api(TENSORKART_TOKEN=TOKEN)
    start_worker(TENSORKART_TOKEN=TOKEN)
    url = f"{trainer_env['TRAINER_URL']}/v1/datasets/curate"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/timeline", timeout=10).status_code == 401  # same token as the rest

    deleted = httpx.post(f"{url}/deletions", json={"start": 4, "end": 9}, headers=auth, timeout=10)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"name": "curate", "count": 16, "kept": 10, "deleted_count": 6, "changed": 6}
    line = httpx.get(f"{url}/timeline", headers=auth, timeout=10).json()
    assert line["count"] == FRAMES and line["deleted_count"] == 6 and line["fps"] == 10
    assert line["frames"]["deleted"] == [4 <= n <= 9 for n in range(FRAMES)]
    assert line["frames"]["index"] == list(range(FRAMES)) and len(line["frames"]["x"]) == FRAMES

    png = httpx.get(f"{url}/frames/5", headers=auth, timeout=10)  # a deleted frame can still be shown
    assert png.headers["content-type"] == "image/png"
    assert png.content == (data_root / "samples/curate/img_5.png").read_bytes()
    jpeg = httpx.get(f"{url}/frames/5", params={"format": "jpeg"}, headers=auth, timeout=10)
    assert jpeg.headers["content-type"] == "image/jpeg" and jpeg.content[:2] == b"\xff\xd8"
    assert httpx.get(f"{url}/frames/16", headers=auth, timeout=10).status_code == 404

    bad = httpx.post(f"{url}/deletions", json={"start": 3, "end": 99}, headers=auth, timeout=10)
    assert bad.status_code == 422 and "out of range" in bad.json()["detail"]
    assert (data_root / "samples/curate/deleted.csv").read_text().count("\n") == 6  # nothing lost

    first = _train(trainer_env["TRAINER_URL"], auth)
    assert first["metrics"]["train_frames"] + first["metrics"]["validation_frames"] == 10  # deleted excluded

    restored = httpx.post(f"{url}/restorations", json={"start": 0, "end": 15}, headers=auth, timeout=10)
    assert restored.json()["kept"] == FRAMES and restored.json()["deleted_count"] == 0
    second = _train(trainer_env["TRAINER_URL"], auth)
    assert second["metrics"]["train_frames"] + second["metrics"]["validation_frames"] == FRAMES  # restored in

    version = second["model_version"]
    answer = httpx.get(f"{url}/predictions", params={"model": version}, headers=auth, timeout=120)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["model"] == version and result["index"] == list(range(FRAMES))
    assert result["recorded_x"] == line["frames"]["x"]
    # The same frames through the Keras model with the model's own pre-processing spec.
    import keras

    metadata = read_metadata(data_root, version)
    spec = PreprocessSpec.model_validate(metadata["preprocess"])
    model = keras.models.load_model(model_dir(data_root, version) / "model.keras", compile=False)
    from PIL import Image

    frames = [np.asarray(Image.open(ds.frame_image(data_root, "curate", n)).convert("RGB")) for n in range(FRAMES)]
    expected = model.predict(np.stack([spec(f) for f in frames]), verbose=0)[:, metadata["outputs"].index("x")]
    np.testing.assert_allclose(result["predicted_x"], expected, atol=2e-3)
    again = httpx.get(f"{url}/predictions", params={"model": version}, headers=auth, timeout=10)
    assert again.json() == result  # cached while data.csv is unchanged
    missing = httpx.get(f"{url}/predictions", params={"model": "m-nope"}, headers=auth, timeout=10)
    assert missing.status_code == 404
