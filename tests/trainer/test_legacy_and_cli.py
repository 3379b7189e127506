"""Legacy model_weights.h5 import (identical outputs, Keras and LiteRT), `tensorkart prepare`, `models` CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from tensorkart_core.preprocess import DEFAULT_SPEC, LEGACY_PLAY_SPEC
from tensorkart_core.registry import ModelRegistry, read_metadata
from tests.helpers import TENSORKART
from tests.trainer.tinydata import frame, make_dataset

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, data_root: Path, trainer_redis_url: str) -> None:
    monkeypatch.setenv("TENSORKART_DATA", str(data_root))
    monkeypatch.setenv("REDIS_URL", trainer_redis_url)
    monkeypatch.setenv("TRAINER_URL", "http://127.0.0.1:9")  # nothing answers: promote goes to the registry


def _cli(*args: str) -> tuple[int, str]:
    """The CLI in this process (its one entry point, tensorkart_cli.main.main): exit status, stderr + stdout."""
    from tensorkart_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue() + out.getvalue()


def test_legacy_h5_import_gives_identical_outputs(cli_env, data_root: Path, tmp_path: Path) -> None:
    import keras
    from ai_edge_litert.interpreter import Interpreter

    from tensorkart_trainer.legacy import write_keras2_h5
    from tensorkart_trainer.pilotnet import build_pilotnet

    keras.utils.set_random_seed(7)
    original = build_pilotnet(5, (66, 200, 3))
    weights = tmp_path / "model_weights.h5"
    write_keras2_h5(original, weights)
    with h5py.File(weights) as handle:  # the Keras 2 layout, as TensorKart's save_weights wrote it
        assert handle.attrs["layer_names"][0] == b"conv2d_1"
        assert list(handle["dense_5"].attrs["weight_names"]) == [b"dense_5/kernel:0", b"dense_5/bias:0"]

    code, output = _cli("models", "import", str(weights))
    assert code == 0, output
    version = output.strip().splitlines()[-1]
    meta = read_metadata(data_root, version)
    assert meta["preprocess"] == LEGACY_PLAY_SPEC.model_dump() and meta["outputs"] == ["x", "y", "a", "b", "rb"]
    assert meta["source"]["kind"] == "keras2_h5_weights"

    rng = np.random.default_rng(0)
    inputs = np.stack([LEGACY_PLAY_SPEC(frame(rng, s)) for s in (-0.6, 0.0, 0.7)])
    expected = original.predict(inputs, verbose=0)
    assert np.abs(expected).max() > 1e-4  # the comparison is not between zeros
    imported = keras.models.load_model(data_root / "models" / version / "model.keras", compile=False)
    np.testing.assert_array_equal(imported.predict(inputs, verbose=0), expected)
    # The float32 export is exact. The int8 one (served by default: int8 weights, float activations)
    # must stay within 1e-2 of Keras on outputs in [-1, 1]: less than one N64 stick step (1/80 of
    # full scale), and ~20x the deviation measured on PilotNet (~3e-4..5e-4), so rounding noise passes
    # while a wrong export (other weights, float activations quantized badly) does not.
    assert meta["files"]["tflite"] == "model.tflite" and meta["files"]["tflite_int8"] == "model.int8.tflite"
    for name, atol in (("model.tflite", 1e-5), ("model.int8.tflite", 1e-2)):
        interpreter = Interpreter(model_path=str(data_root / "models" / version / name))
        interpreter.allocate_tensors()
        input_index = interpreter.get_input_details()[0]["index"]
        output_index = interpreter.get_output_details()[0]["index"]
        for image, want in zip(inputs, expected, strict=True):
            interpreter.set_tensor(input_index, image[None])
            interpreter.invoke()
            np.testing.assert_allclose(interpreter.get_tensor(output_index)[0], want, atol=atol, err_msg=name)
    assert 0 <= meta["quantization"]["int8_max_abs_diff"] < 1e-2

    # promote / rollback with no trainer answering go straight to the registry
    code, output = _cli("models", "promote", version)
    assert code == 0, output
    registry = ModelRegistry.from_url(data_root, os.environ["REDIS_URL"])
    assert registry.active() == version
    code, output = _cli("models", "list")
    assert code == 0 and f"* {version}" in output


def test_import_rejects_wrong_files(cli_env, tmp_path: Path) -> None:
    import keras

    from tensorkart_trainer.legacy import write_keras2_h5

    not_h5 = tmp_path / "x.h5"
    not_h5.write_bytes(b"hello")
    code, output = _cli("models", "import", str(not_h5))
    assert code == 1 and "not an HDF5 file" in output
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    write_keras2_h5(other, tmp_path / "other.h5")
    code, output = _cli("models", "import", str(tmp_path / "other.h5"))
    assert code == 1 and "PilotNet" in output
    keras3 = tmp_path / "model.keras"  # case 4: a Keras 3 archive is named as such, not "file signature not found"
    other.save(keras3)
    code, output = _cli("models", "import", str(keras3))
    assert code == 1 and "Traceback" not in output
    assert output.strip() == (
        f"error: {keras3}: a Keras 3 '.keras' archive; only Keras 2 .h5 weights (TensorKart's model_weights.h5) are "
        "imported — import takes TensorKart's Keras 2 model_weights.h5 (PilotNet weights)"
    )


def test_models_list_with_no_models_says_so_and_rollback_names_the_fix(cli_env, data_root: Path) -> None:
    """Case 5 and 9: an empty registry is said, not printed as nothing; nothing to roll back is one line."""
    code, output = _cli("models", "list")
    assert code == 0 and output.startswith("no models yet in ") and "tensorkart train --dataset NAME" in output
    code, output = _cli("models", "rollback")
    assert code == 1 and output.strip() == (
        "error: nothing to roll back to: no previously active version — "
        "promote a version first: tensorkart models promote VERSION"
    )
    code, output = _cli("models", "show", "ghost")
    assert code == 1 and "unknown model version 'ghost'" in output and " — see the versions" in output


def test_prepare_writes_real_pixels(cli_env, data_root: Path, tmp_path: Path) -> None:
    rows = make_dataset(data_root, "luigi-1", frames=9)
    make_dataset(data_root, "luigi-2", frames=5, seed=2)
    out = tmp_path / "prepared"
    code, output = _cli("prepare", "luigi-1", str(data_root / "samples" / "luigi-2"), "--out", str(out))
    assert code == 0, output
    assert output.strip().splitlines()[-1] == str(out / "X.npy")
    x, y = np.load(out / "X.npy"), np.load(out / "y.npy")
    assert x.shape == (14, 66, 200, 3) and x.dtype == np.uint8 and y.shape == (14, 5)
    assert y[:9, 0].tolist() == pytest.approx([r.x for r in rows])
    first = np.asarray(Image.open(data_root / "samples" / "luigi-1" / "img_0.png").convert("RGB"))
    np.testing.assert_array_equal(x[0], DEFAULT_SPEC.prepare(first))
    assert x.std() > 10 and x.max() > 100  # the original stored 0..1 floats in uint8: all zeros


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The installed `tensorkart` console script, as a user runs it."""
    return subprocess.run(
        [TENSORKART, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def _one_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and " — " in lines[0], done.stderr
    return lines[0]


def test_train_without_a_trainer_and_with_an_unknown_dataset_say_what_to_do(start_api, trainer_env) -> None:
    """Case 4: no trainer -> `tensorkart up`; an unknown dataset -> the field and `datasets list`, never a repr."""
    nobody = {**trainer_env, "TRAINER_URL": "http://127.0.0.1:9"}
    done = _run("train", "--dataset", "luigi-1", env=nobody)
    assert done.returncode == 1
    assert _one_line(done) == (
        "error: no trainer answers at http://127.0.0.1:9 — "
        "start the stack: tensorkart up (or point --url / TRAINER_URL at a running trainer)"
    )
    start_api()
    done = _run("train", "--dataset", "ghost-run", env=trainer_env)
    assert done.returncode == 1
    line = _one_line(done)
    assert line.startswith("error: the trainer refused: datasets: ") and "ghost-run" in line
    assert line.endswith("— see the names: tensorkart datasets list")


def test_jobs_commands_follow_the_job_train_detach_started(start_api, start_worker, trainer_env, data_root) -> None:
    """Case 6: `train --detach` prints the id `jobs follow` takes; list / show / cancel work on it."""
    make_dataset(data_root, "luigi-1", frames=16)
    start_api()
    empty = _run("jobs", "list", env=trainer_env)
    assert empty.returncode == 0 and empty.stdout.startswith("no training jobs on ")
    detached = _run(
        "train", "-d", "luigi-1", "--epochs", "1", "--batch-size", "8", "--no-eval", "--detach", env=trainer_env
    )
    assert detached.returncode == 0, detached.stderr
    job_id = detached.stdout.strip().splitlines()[-1]
    start_worker()
    followed = _run("jobs", "follow", job_id, "--quiet", env=trainer_env)
    assert followed.returncode == 0, followed.stderr
    version = followed.stdout.strip().splitlines()[-1]
    assert f"job {job_id} finished" in followed.stderr
    assert read_metadata(data_root, version)["job"]["id"] == job_id
    listed = _run("jobs", "list", env=trainer_env)
    assert listed.returncode == 0 and listed.stdout.startswith(job_id) and f"-> {version}" in listed.stdout
    shown = _run("jobs", "show", job_id, env=trainer_env)
    assert json.loads(shown.stdout)["model_version"] == version
    cancel = _run("jobs", "cancel", job_id, env=trainer_env)
    assert cancel.returncode == 1 and f"job {job_id} is already finished" in _one_line(cancel)
    missing = _run("jobs", "follow", "no-such-job", env=trainer_env)
    assert missing.returncode == 1 and "no-such-job" in _one_line(missing)
