"""Issue 19's bad cases through the real CLI: one line `error: <what> — <fix>`, the exit status, no traceback.

(Case 1, the recording thrown away, is in tests/recorder/test_cli_record.py; the trainer and models
cases in tests/trainer/test_legacy_and_cli.py; play's and predict's readable results in
tests/play/test_cli.py. The time to fail is measured by bench/bench_preflight.py, not asserted.)
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.cli.first_hour import error_line, tensorkart
from tests.helpers import NOBODY


def test_eval_names_the_bad_track_not_the_healthy_services(data_root: Path, tmp_path: Path) -> None:
    """Case 2: an unknown track or a corrupt track file is named, before any service starts."""
    env = {"TENSORKART_DATA": str(data_root)}
    unknown = tensorkart("eval", "--model", "m1", "--track", "monaco", env=env)
    assert unknown.returncode == 2
    line = error_line(unknown)
    assert "unknown track 'monaco'" in line and "inference" not in line and "controller" not in line
    corrupt = tmp_path / "broken.json"
    corrupt.write_text('{"name": "broken", "width": 8, "points": [[0, 0], [1')
    bad = tensorkart("eval", "--model", "m1", "--track", str(corrupt), env=env)
    assert bad.returncode == 2 and str(corrupt) in error_line(bad)


def test_play_without_an_inference_server_or_without_a_model_fails_at_once(
    data_root: Path, start_service, redis_url: str
) -> None:
    """Case 3: no inference server -> one line naming `tensorkart up`; no model -> one line naming promote."""
    nobody = NOBODY
    env = {"TENSORKART_DATA": str(data_root), "INFERENCE_ADDR": nobody, "CONTROLLER_ADDR": nobody}
    ran = tensorkart("play", "--headless", "--seconds", "5", env=env)
    assert ran.returncode == 1
    line = error_line(ran)
    assert f"no inference server answers at {nobody}" in line and "tensorkart up" in line

    from tensorkart_core.health import check

    inference_env = {
        "TENSORKART_DATA": str(data_root),
        "REDIS_URL": redis_url,  # a fresh Redis db: no model was ever promoted
        "INFERENCE_HOST": "127.0.0.1",
        "INFERENCE_PORT": "0",
        "INFERENCE_METRICS_PORT": "0",
    }
    inference = start_service("tensorkart_inference", inference_env, ports=("grpc",))
    address = inference.address("grpc")
    assert check(address, timeout=5) != "UNREACHABLE"
    ran = tensorkart("play", "--headless", "--seconds", "5", env={**env, "INFERENCE_ADDR": address})
    assert ran.returncode == 1
    line = error_line(ran)
    assert "has no active model" in line and "tensorkart models promote VERSION" in line
    assert "reconnecting" not in ran.stderr


def test_usage_errors_and_bad_values_use_the_same_one_line_format() -> None:
    """Case 4: the option the user typed is named; no traceback for a typo."""
    typo = tensorkart("record", "--nmae", "x")
    assert typo.returncode == 2 and "no such option: --nmae" in error_line(typo)
    value = tensorkart("record", "--name", "x", "--seconds", "soon")
    assert value.returncode == 2 and "'--seconds'" in error_line(value)
    play = tensorkart("play", "--seconds", "-1")
    assert play.returncode == 2 and error_line(play) == "error: --seconds must be positive, got -1 — e.g. --seconds 60"


def test_sim_without_a_display_fails_clearly_and_a_run_ends_with_a_summary() -> None:
    """Case 5: no window without a display (unless --headless); every run ends with a readable line."""
    windowed = tensorkart("sim", "--laps", "1", env={"DISPLAY": ""})
    assert windowed.returncode == 2
    assert "needs a display" in error_line(windowed) and "--headless" in error_line(windowed)
    headless = tensorkart("sim", "--headless", "--laps", "1", "--max-seconds", "2", env={"DISPLAY": ""})
    assert headless.returncode == 0, headless.stderr
    summary = headless.stderr.strip().splitlines()[-1]
    assert summary.startswith("the expert driver drove 0 laps of luigi in 2.0 simulated s:"), summary
    assert "autonomy" in summary and headless.stdout == ""  # no --report: no JSON


def test_sim_report_keeps_the_contract_json_last_after_the_summary() -> None:
    ran = tensorkart("sim", "--headless", "--laps", "1", "--max-seconds", "2", "--report", env={"DISPLAY": ""})
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert set(report) == {"track", "driver", "laps", "sim_seconds", "interventions", "autonomy", "progress", "fps"}
    assert f"autonomy {report['autonomy']:.2f}" in ran.stderr


def test_up_names_a_taken_port_with_the_fix(data_root: Path, redis_url: str) -> None:
    """Cases 4 and 7: a busy port is named (with its variable) before anything starts; the variables are honoured."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ran = tensorkart("up", "--data", str(data_root), env={"REDIS_URL": redis_url, "TRAINER_PORT": str(taken)})
    assert ran.returncode == 1
    assert error_line(ran) == (
        f"error: port {taken} (trainer) is already in use — stop what holds it (e.g. another tensorkart up), "
        "set TRAINER_PORT=ANOTHER_PORT, or use --random-ports"
    )
    assert "stopped" not in ran.stdout  # nothing was started


def test_help_shows_no_bool_type_for_flags() -> None:
    """Case 9: flags take no value, so their help shows no `<bool>`."""
    ran = tensorkart("record", "--help", env={"COLUMNS": "120"})
    assert ran.returncode == 0 and "--resume" in ran.stdout and "<bool>" not in ran.stdout


def test_up_names_the_service_that_failed_with_its_own_error(data_root: Path) -> None:
    """Case 7: when one service cannot start, the one line is that service's own error, not `not ready`."""
    ran = tensorkart(
        "up", "--random-ports", "--data", str(data_root),
        env={"REDIS_URL": f"redis://{NOBODY}/0", "INFERENCE_PRECISION": "bogus"},
    )  # fmt: skip
    assert ran.returncode == 1
    line = error_line(ran)
    assert line.startswith("error: the stack did not start: inference exited: ")
    assert "INFERENCE_PRECISION='bogus'" in line
    assert ran.stdout.strip().splitlines()[-1] == "all services stopped"
