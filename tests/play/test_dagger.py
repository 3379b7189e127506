"""One automated DAgger round's drive (`python -m tensorkart_cli.dagger_round`): a model drives the
practice track through the whole loop, the expert takes over near the edge, and the takeover
frames arrive at the recorder as `<session>-interventions` with the expert's stick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.inference.modelbank import install


def test_a_dagger_round_records_the_experts_takeovers(model_bank: Path, data_root: Path, start_recorder) -> None:
    install(model_bank, data_root, "va")
    recorder = start_recorder()
    done = subprocess.run(
        [
            sys.executable, "-m", "tensorkart_cli.dagger_round", "--model", "va", "--data", str(data_root),
            "--recorder", recorder, "--session", "dg-r1", "--track", "heldout", "--theme", "snow", "--laps", "1",
        ],
        env={**os.environ, "TENSORKART_DATA": str(data_root)},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    sim = result["sim"]
    assert sim["laps"] == 1 or sim["sim_seconds"] >= 179.0
    # The test model is not a driver: the expert has to step in, and keeps the kart on the road.
    assert sim["takeovers"] >= 1 and sim["takeover_seconds"] > 0
    assert sim["interventions"] <= sim["takeovers"]
    rows = (data_root / "samples" / "dg-r1-interventions" / "data.csv").read_text().splitlines()
    assert abs(len(rows) - sim["takeover_seconds"] * 30) <= 3 + 0.02 * len(rows)
    assert result["relay"]["overrides"] == len(rows)
    steering = [float(row.split(",")[1]) for row in rows]
    assert max(abs(x) for x in steering) > 0.1  # the expert's corrections, not a neutral stick
