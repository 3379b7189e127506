"""`tensorkart predict` and `tensorkart eval` as a user runs them (real processes end to end)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tensorkart_core.preprocess import DEFAULT_SPEC
from tests.inference.modelbank import install, litert_outputs, test_frame


def tensorkart(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tensorkart_cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_predict_prints_the_models_outputs_per_image(
    model_bank: Path, data_root: Path, start_inference, tmp_path: Path
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    pictures = [test_frame(seed) for seed in (20, 21)]
    paths = []
    for i, picture in enumerate(pictures):
        paths.append(tmp_path / f"frame{i}.png")
        Image.fromarray(picture).save(paths[-1])
    done = tensorkart("predict", *map(str, paths), env={"INFERENCE_ADDR": address})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 2
    for line, picture in zip(lines, pictures, strict=True):
        assert line["version"] == "va" and len(line["outputs"]) == 5
        # case 8: labelled by the model's declared outputs, beside the contract's raw list
        assert line["labels"] == dict(zip(["x", "y", "a", "b", "rb"], line["outputs"], strict=True))
        expected = litert_outputs(data_root, "va", DEFAULT_SPEC(picture))
        assert max(abs(a - float(b)) for a, b in zip(line["outputs"], expected, strict=True)) < 1e-5

    missing = tensorkart("predict", str(tmp_path / "nope.png"), env={"INFERENCE_ADDR": address})
    assert missing.returncode == 1 and "nope.png: no such file" in missing.stderr
    (tmp_path / "text.png").write_text("not an image")
    bad = tensorkart("predict", str(tmp_path / "text.png"), env={"INFERENCE_ADDR": address})
    assert bad.returncode == 1 and "text.png: not an image" in bad.stderr
    assert "BytesIO" not in bad.stderr and "object at 0x" not in bad.stderr  # case 4: no Python repr


def test_eval_drives_the_practice_track_through_the_whole_loop(model_bank: Path, data_root: Path):
    """practice track -> capture (sim source) -> inference -> controller (lock-step) -> practice track."""
    install(model_bank, data_root, "va")
    done = tensorkart(
        "eval", "--model", "va", "--track", "luigi", "--laps", "1", "--max-seconds", "4",
        env={"TENSORKART_DATA": str(data_root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["model"] == "va" and report["track"] == "luigi"
    assert set(report) == {"track", "model", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}
    assert 3.9 <= report["sim_seconds"] <= 4.1 and 0.0 <= report["autonomy"] <= 1.0
    relay = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("relay: "))[7:])
    frames = round(report["sim_seconds"] * 30)  # the practice track runs 30 frames per simulated second
    assert relay["answered"] >= frames - 1 and relay["dropped"] == 0 and relay["stale"] == 0
    assert relay["models"] == ["va"]


def test_eval_of_an_unknown_model_fails_clearly(data_root: Path):
    done = tensorkart("eval", "--model", "ghost", "--track", "luigi", env={"TENSORKART_DATA": str(data_root)})
    assert done.returncode == 2 and "unknown model version 'ghost'" in done.stderr


def test_play_on_the_practice_track_and_in_shadow_mode(
    model_bank: Path, data_root: Path, start_inference, start_controller
):
    install(model_bank, data_root, "va")
    address, _ = start_inference(INFERENCE_MODEL="va")
    controller = start_controller()
    env = {"INFERENCE_ADDR": address, "CONTROLLER_ADDR": controller.address, "TENSORKART_DATA": str(data_root)}
    common = ["--source", "sim", "--headless", "--input-bot", f"http://127.0.0.1:{controller.http_port}"]

    driven = tensorkart("play", *common, "--seconds", "3", env=env)
    assert driven.returncode == 0, driven.stderr[-3000:]
    result = json.loads(driven.stdout.strip().splitlines()[-1])
    assert result["models"] == ["va"] and result["answered"] > 0
    assert result["pushed"] >= result["answered"]  # the relay forwards every answer (and the human's steering)
    assert result["sim"]["driver"] == "controller" and result["sim"]["sim_seconds"] > 0
    # case 8: lap, interventions and autonomy live, and one readable line before the JSON
    assert "lap 1  interventions " in driven.stderr and "  autonomy " in driven.stderr
    summary = driven.stderr.strip().splitlines()[-1]
    assert summary.startswith("model va drove 0 laps of luigi in ") and "autonomy" in summary

    shadow = tensorkart("play", *common, "--shadow", "--seconds", "3", env=env)
    assert shadow.returncode == 0, shadow.stderr[-3000:]
    result = json.loads(shadow.stdout.strip().splitlines()[-1])
    assert result["sim"]["driver"] == "expert"  # the "human" drives, the model only predicts
    assert result["human_pushed"] == result["captured"] > 0
    assert result["agreement"]["frames"] > 0 and 0.0 <= result["agreement"]["within_0_1"] <= 1.0
