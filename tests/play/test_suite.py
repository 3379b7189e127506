"""`tensorkart eval --suite`: a model over every run of a suite through the whole loop, one JSON
line per run and the aggregate last; a bad suite is refused with the problem named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.inference.modelbank import install
from tests.play.test_cli import tensorkart


def test_eval_suite_prints_a_line_per_run_and_the_aggregate(model_bank: Path, data_root: Path) -> None:
    install(model_bank, data_root, "va")
    done = tensorkart(
        "eval", "--model", "va", "--suite", "quick", "--jobs", "2",
        env={"TENSORKART_DATA": str(data_root)}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()[-3:]]
    runs, total = lines[:2], lines[2]
    assert [(r["track"], r["theme"], r["traffic"]) for r in runs] == [("heldout", "snow", 0), ("canyon", "night", 2)]
    for run in runs:
        assert 0.0 <= run["autonomy"] <= 1.0
        assert 0.0 <= run["lap_completed_pct"] <= 100.0
        assert run["sim_seconds"] == 15.0
        assert run["interventions_per_min"] >= 0
    assert total["suite"] == "quick" and total["runs"] == 2
    assert set(total) >= {"suite_autonomy", "suite_pace", "lap_completed_pct", "interventions_per_min"}


def test_eval_suite_refuses_a_bad_suite(model_bank: Path, data_root: Path, tmp_path: Path) -> None:
    install(model_bank, data_root, "va")
    bad = tmp_path / "bad-suite.json"
    bad.write_text(json.dumps({"name": "b", "runs": [{"track": "heldout", "theme": "lava", "traffic": 0, "seed": 1}]}))
    done = tensorkart("eval", "--model", "va", "--suite", str(bad), env={"TENSORKART_DATA": str(data_root)})
    assert done.returncode == 2
    assert "bad-suite.json: run 0: unknown theme 'lava'" in done.stderr
