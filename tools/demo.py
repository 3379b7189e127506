"""`make demo`: the whole main job, end to end, through the real services.

1. start the local stack (`tensorkart up`: recorder, inference, controller, trainer API + worker);
2. record the practice track's expert on the training tracks (capture → recorder);
3. train PilotNet through the trainer's REST API (`tensorkart train`);
4. promote the new model and wait until the running inference server has hot-swapped it;
5. drive the practice track with it through capture → inference → controller, on a training
   track and on the held-out track (never recorded), and print the report.

The last line printed is one JSON object (CONTRACT.md). Everything it writes stays under
./data (or $TENSORKART_DATA): the datasets, the model and demo logs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import grpc

from tensorkart_core.grpc_client import make_channel
from tensorkart_core.launcher import Launcher, ServiceSpec
from tensorkart_core.proto.v1 import inference_pb2, inference_pb2_grpc

BIN = Path(sys.executable).parent
TENSORKART = str(BIN / "tensorkart")
TRAIN_TRACKS = ("luigi", "twists")
HELDOUT_TRACK = "heldout"
RECORD_SECONDS = float(os.environ.get("DEMO_RECORD_SECONDS", "120"))
EPOCHS = int(os.environ.get("DEMO_EPOCHS", "6"))
EVAL_LAPS = int(os.environ.get("DEMO_EVAL_LAPS", "2"))
ENDPOINT = re.compile(r"^\s+(\w+)\s+(?:grpc|http)://([\w.]+:\d+)")


def say(message: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stack:
    """`tensorkart up` as a child process (the one launcher); its log goes to a file."""

    def __init__(self, data: Path, log_path: Path) -> None:
        self.lines: list[str] = []
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.launcher = Launcher(out=self._line, grace_seconds=60)
        self.child = self.launcher.start(
            ServiceSpec("stack", [TENSORKART, "up", "--random-ports", "--data", str(data)])
        )

    def _line(self, _name: str, line: str) -> None:
        self.lines.append(line)
        self.log.write(line + "\n")
        self.log.flush()

    def wait_up(self, timeout: float = 300.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any("TensorKart stack is up" in line for line in self.lines):
                return {m.group(1): m.group(2) for line in self.lines if (m := ENDPOINT.match(line))}
            if not self.child.alive():
                break
            time.sleep(0.3)
        raise SystemExit("the stack did not come up:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> None:
        self.launcher.stop_all()
        self.log.close()


def run(args: list[str], env: dict[str, str], what: str) -> str:
    """Run a tensorkart command (its progress goes to the terminal); return its last stdout line."""
    completed = subprocess.run([TENSORKART, *args], env=env, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"{what} failed (exit {completed.returncode}):\n{completed.stdout[-2000:]}")
    return lines[-1]


def record_all(env: dict[str, str], stamp: str) -> list[str]:
    """Record every training track at once (each its own simulator and capture)."""
    names = [f"demo-{stamp}-{track}" for track in TRAIN_TRACKS]
    processes = []
    for index, (track, name) in enumerate(zip(TRAIN_TRACKS, names, strict=True)):
        args = ["record", "--source", "sim", "--track", track, "--seconds", str(RECORD_SECONDS), "--name", name]
        args += ["--seed", str(index + 1), "--quiet"]
        processes.append(subprocess.Popen([TENSORKART, *args], env=env, stdout=subprocess.PIPE, text=True))
    for name, process in zip(names, processes, strict=True):
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"recording {name} failed (exit {process.returncode}):\n{out[-2000:]}")
    return names


def count_frames(data: Path, names: list[str]) -> int:
    return sum(
        sum(1 for line in (data / "samples" / name / "data.csv").read_text().splitlines() if line) for name in names
    )


def wait_serving(address: str, version: str, timeout: float = 120.0) -> None:
    """Until the running inference server reports `version` (the hot swap happened)."""
    deadline = time.monotonic() + timeout
    with make_channel(address) as channel:
        stub = inference_pb2_grpc.InferenceStub(channel)
        while time.monotonic() < deadline:
            try:
                if stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=5).version == version:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"inference at {address} did not switch to {version} within {timeout:.0f}s")


def drive(env: dict[str, str], input_bot: str, track: str) -> dict:
    """Drive `track` in real time with the served model; the practice track's report."""
    args = ["play", "--source", "sim", "--track", track, "--laps", str(EVAL_LAPS), "--headless", "--realtime"]
    args += ["--input-bot", input_bot, "--session", f"demo-play-{track}"]
    result = json.loads(run(args, env, f"driving {track}"))
    report = result.get("sim") or {}
    if "autonomy" not in report:
        raise SystemExit(f"driving {track} gave no practice-track report: {result}")
    return report


def main() -> int:
    started = time.monotonic()
    data = Path(os.environ.get("TENSORKART_DATA", "data")).resolve()
    data.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    say(f"starting the local stack (data: {data}, log: {data / 'demo-stack.log'})")
    stack = Stack(data, data / "demo-stack.log")
    try:
        endpoints = stack.wait_up()
        controller_http = next(
            m.group(1) for line in stack.lines if (m := re.search(r"input-bot http://([\w.]+:\d+)", line))
        )
        env = {
            **os.environ,
            "TENSORKART_DATA": str(data),
            "RECORDER_ADDR": endpoints["recorder"],
            "INFERENCE_ADDR": endpoints["inference"],
            "CONTROLLER_ADDR": endpoints["controller"],
            "TRAINER_URL": f"http://{endpoints['trainer']}",
        }
        say(f"recording the expert on {', '.join(TRAIN_TRACKS)} for {RECORD_SECONDS:.0f} s each (30 Hz, lossless)")
        datasets = record_all(env, stamp)
        frames = count_frames(data, datasets)
        say(f"recorded {frames} frames into {', '.join(datasets)}")
        for name in datasets:
            run(["datasets", "validate", name, "--data", str(data)], env, f"validating {name}")
        say(f"training PilotNet through the REST API ({EPOCHS} epochs)")
        train_args = ["train", "--epochs", str(EPOCHS), "--no-eval", "--no-promote", "--flip", "0.5"]
        for name in datasets:
            train_args += ["--dataset", name]
        version = run(train_args, env, "training").strip()
        say(f"trained model {version}; promoting it and waiting for the hot swap")
        run(["models", "promote", version], env, "promoting")
        wait_serving(endpoints["inference"], version)
        reports = {}
        for track in (TRAIN_TRACKS[0], HELDOUT_TRACK):
            say(f"driving {EVAL_LAPS} laps of {track} with {version}")
            reports[track] = drive(env, f"http://{controller_http}", track)
            say(f"{track}: {json.dumps(reports[track])}")
    finally:
        stack.stop()
    result = {
        "demo": "ok",
        "model": version,
        "train_track_autonomy": reports[TRAIN_TRACKS[0]]["autonomy"],
        "heldout_track_autonomy": reports[HELDOUT_TRACK]["autonomy"],
        "frames_recorded": frames,
        "minutes": round((time.monotonic() - started) / 60, 2),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
