"""`schemathesis run --checks all` against a running trainer process passes clean: every answer
matches its documented status, content type, headers and response schema; schema-valid requests are
accepted and schema-invalid ones rejected; 405 answers carry the documented methods in `Allow`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.trainer.tinydata import make_dataset

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_checks_all_pass_against_a_running_trainer(start_api, trainer_env, data_root: Path, tmp_path):
    make_dataset(data_root, "luigi-1", frames=4, width=64, height=48)
    start_api()
    url = trainer_env["TRAINER_URL"]
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--max-examples", "20", "--generation-deterministic", "--request-timeout", "20",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in run.stdout and "failed" not in run.stdout, run.stdout[-3000:]
