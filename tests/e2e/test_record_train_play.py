"""The whole main job through a running `tensorkart up` stack, as a user drives it from the
command line: record the practice track → validate → train through the REST API → promote
→ the running inference server hot-swaps → predict and drive with the new model → a DAgger round
(`tensorkart dagger`) fine-tunes and promotes the next one."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

from tensorkart_core.dataset import read_rows
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc
from tensorkart_core.registry import read_metadata
from tests.helpers import TENSORKART, UpProcess
from tests.inference.modelbank import served_tflite


def tensorkart(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run([TENSORKART, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"tensorkart {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def tensorkart_lines(*args: str, env: dict[str, str], timeout: float = 600) -> list[str]:
    done = subprocess.run([TENSORKART, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"tensorkart {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return [line for line in done.stdout.splitlines() if line.strip()]


def served_version(address: str) -> str:
    """The version the server serves; "" while it has none yet (FAILED_PRECONDITION until the swap)."""
    with make_channel(address) as channel:
        try:
            return (
                inference_pb2_grpc.InferenceStub(channel)
                .GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=5)
                .version
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            return ""


def test_record_train_promote_predict_play(data_root: Path, redis_url: str) -> None:
    up = UpProcess(data_root, redis_url)
    try:
        up.wait_for("TensorKart stack is up")
        endpoints = up.endpoints()
        env = {
            **os.environ,
            "TENSORKART_DATA": str(data_root),
            "RECORDER_ADDR": endpoints["recorder"],
            "INFERENCE_ADDR": endpoints["inference"],
            "CONTROLLER_ADDR": endpoints["controller"],
            "TRAINER_URL": f"http://{endpoints['trainer']}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        path = tensorkart(
            "record", "--source", "sim", "--track", "luigi", "--seconds", "4", "--name", "e2e-run", "--quiet", env=env
        )
        assert Path(path).resolve() == (data_root / "samples" / "e2e-run").resolve()
        rows, problems = read_rows(data_root / "samples" / "e2e-run" / "data.csv")
        assert len(rows) >= 100 and not problems
        tensorkart("datasets", "validate", "e2e-run", "--data", str(data_root), env=env)

        version = tensorkart(
            "train", "--dataset", "e2e-run", "--epochs", "1", "--batch-size", "16", "--no-eval", "--no-promote",
            "--quiet", env=env,
        )  # fmt: skip
        metadata = read_metadata(data_root, version)
        assert metadata["datasets"][0]["name"] == "e2e-run"
        tensorkart("models", "promote", version, env=env)
        deadline = time.monotonic() + 60
        while served_version(endpoints["inference"]) != version:
            assert time.monotonic() < deadline, "inference never swapped to the promoted model"
            time.sleep(0.3)

        # predict: the served outputs are the model's outputs for that picture, from the LiteRT
        # file the server serves (the int8 export by default, INFERENCE_PRECISION).
        picture = data_root / rows[50].image
        answer = json.loads(tensorkart("predict", str(picture), env=env))
        assert answer["version"] == version
        from ai_edge_litert.interpreter import Interpreter

        precision = os.environ.get("INFERENCE_PRECISION", "int8")
        served = served_tflite(data_root, version, precision)
        assert served.name == ("model.int8.tflite" if precision == "int8" else "model.tflite")  # a new export has both
        interpreter = Interpreter(model_path=str(served))
        interpreter.allocate_tensors()
        spec = PreprocessSpec.model_validate(metadata["preprocess"])
        pixels = spec(np.asarray(Image.open(picture).convert("RGB")))[None]
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels)
        interpreter.invoke()
        expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        assert np.allclose(answer["outputs"], expected, atol=1e-4)

        # play: the practice track driven by the served model through the stack's controller.
        result = json.loads(
            tensorkart(
                "play",
                "--source",
                "sim",
                "--track",
                "luigi",
                "--laps",
                "1",
                "--headless",
                "--lockstep",
                "--seconds",
                "15",
                "--input-bot",
                up.input_bot(),
                env=env,
            )
        )
        assert result["answered"] > 30
        assert result["models"] == [version]
        assert result["invalid"] == 0
        assert result["pushed"] > 30  # every answer forwarded by the relay, the pad's one writer
        assert result["sim"]["track"] == "luigi"

        # dagger: the model drives a generated layout, the expert's takeovers (capped at 2 s) are
        # recorded through the stack's recorder, and a model fine-tuned through the REST API with the
        # first model's recipe (its batch size) on everything is promoted and served.
        lines = tensorkart_lines(
            "dagger", "--rounds", "1", "--model", version, "--dataset", "e2e-run", "--random-tracks", "1",
            "--budget-seconds", "2", "--epochs", "1", "--no-final-drive", "--session", "e2e-dg", env=env,
        )  # fmt: skip
        first, summary = json.loads(lines[-2]), json.loads(lines[-1])
        assert first["round"] == 1 and first["drives"] == 1 and first["takeovers"] >= 1
        assert 0 < first["takeover_seconds"] <= 2.0 + 1e-6
        assert first["datasets"] == ["e2e-dg-r1-d1-interventions"]
        takeovers, problems = read_rows(data_root / "samples" / "e2e-dg-r1-d1-interventions" / "data.csv")
        assert 0 < len(takeovers) <= 60 and not problems
        tuned = summary["model"]
        assert summary["takeover_seconds_used"] == first["takeover_seconds"] and first["next_model"] == tuned
        job = read_metadata(data_root, tuned)["job"]["params"]
        assert job["base_model"] == version and job["batch_size"] == 16
        assert job["datasets"] == ["e2e-run", "e2e-dg-r1-d1-interventions"]
        deadline = time.monotonic() + 60
        while served_version(endpoints["inference"]) != tuned:
            assert time.monotonic() < deadline, "inference never swapped to the fine-tuned model"
            time.sleep(0.3)
    finally:
        up.stop()
