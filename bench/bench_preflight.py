"""Fail fast: how long each failing `tensorkart` command of issue 19 takes to print its one error line.

Every case runs the installed console script as a user would (a fresh process each time), against
real services where the check asks one (a recorder holding the taken dataset name): the time is
process start to exit. The floor, measured in the same run, is `tensorkart --help` (interpreter
start + CLI imports): a preflight costs what it adds above that. Before this change the taken-name
case ran the whole recording first (e.g. 21 s for `--seconds 20`) and `play` without an inference
server waited 34 s; those are no longer reproducible, so the floor is the comparison.
Keys: cli_preflight_fail_p50_ms (median over all cases), cli_preflight_fail_max_ms (slowest case's
median), cli_startup_p50_ms (the floor), cli_preflight_<case>_p50_ms.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tensorkart_core.launcher import Launcher, ServiceSpec, grpc_ready, python_module

RUNS = int(os.environ.get("BENCH_PREFLIGHT_RUNS", "5"))
TENSORKART = str(Path(sys.executable).parent / "tensorkart")


def _timed(args: list[str], env: dict[str, str], expect_failure: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run([TENSORKART, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if expect_failure and (done.returncode == 0 or not done.stderr.startswith("error: ")):
        raise RuntimeError(f"tensorkart {' '.join(args)} did not fail with one error line: {done.stderr!r}")
    return elapsed


def _recorder(launcher: Launcher, data_root: Path) -> str:
    """A recorder on the port it picks; its address once it serves."""
    env = {"TENSORKART_DATA": str(data_root), "RECORDER_HOST": "127.0.0.1", "RECORDER_PORT": "0"}
    env["RECORDER_METRICS_PORT"] = "0"
    spec = ServiceSpec("recorder", python_module("tensorkart_recorder"), env, ("grpc",), grpc_ready())
    return launcher.start_ready(spec, timeout=60, log_path=Path(os.devnull)).address("grpc")


def run() -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-preflight-"))
    data_root = workdir / "data"
    (data_root / "samples" / "taken").mkdir(parents=True)
    (data_root / "samples" / "taken" / "data.csv").write_text("")
    refusing = socket.socket()  # bound, never listening: connections to it are refused
    refusing.bind(("127.0.0.1", 0))
    nobody = f"127.0.0.1:{refusing.getsockname()[1]}"
    launcher = Launcher(grace_seconds=30)
    address = _recorder(launcher, data_root)
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    base = {**os.environ, "TENSORKART_DATA": str(data_root), "DISPLAY": ""}
    cases = {
        "record_name_taken": (
            ["record", "--source", "sim", "--seconds", "20", "--name", "taken"],
            {"RECORDER_ADDR": address},
        ),
        "record_seconds_zero": (["record", "--seconds", "0", "--name", "x"], {}),
        "record_screen_no_display": (["record", "--source", "screen", "--name", "x"], {}),
        "play_no_inference": (["play", "--headless"], {"INFERENCE_ADDR": nobody, "CONTROLLER_ADDR": nobody}),
        "eval_bad_track": (["eval", "--model", "m1", "--track", "monaco"], {}),
        "sim_no_display": (["sim", "--laps", "1"], {}),
        "train_no_trainer": (["train", "--dataset", "taken"], {"TRAINER_URL": f"http://{nobody}"}),
        "up_port_taken": (["up", "--data", str(data_root)], {"TRAINER_PORT": str(holder.getsockname()[1])}),
    }
    try:
        results: dict[str, float] = {}
        floor = [_timed(["--help"], base, expect_failure=False) for _ in range(RUNS)]
        results["cli_startup_p50_ms"] = round(statistics.median(floor), 1)
        medians = []
        for name, (args, extra) in cases.items():
            times = [_timed(args, {**base, **extra}) for _ in range(RUNS)]
            median = statistics.median(times)
            medians.append(median)
            results[f"cli_preflight_{name}_p50_ms"] = round(median, 1)
        results["cli_preflight_fail_p50_ms"] = round(statistics.median(medians), 1)
        results["cli_preflight_fail_max_ms"] = round(max(medians), 1)
        results["cli_preflight_over_startup_ratio"] = round(
            results["cli_preflight_fail_p50_ms"] / results["cli_startup_p50_ms"], 2
        )
        return results
    finally:
        holder.close()
        refusing.close()
        launcher.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print(run())
