"""The n64 profile's image, as files: one image for the emulator frontend and our input plugin,
built from Debian packages, PyPI wheels and this repository (no git clone), run as a non-root user;
its X display is private (no TCP, shared with no container), and capture-n64 reads the frame feed.
`make n64-image` builds it and runs its self-check (and, with a ROM, shows frames flowing)."""

from __future__ import annotations

import re

import yaml

from tests.helpers import REPO

EMULATOR = REPO / "deploy" / "emulator"


def instructions(path) -> str:
    return "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))


def test_one_image_builds_our_plugin_and_installs_the_frontend():
    assert not (REPO / "services" / "emulator" / "Dockerfile").exists(), "one n64 image, not two"
    dockerfile = instructions(EMULATOR / "Dockerfile")
    assert "git" not in re.findall(r"[\w.+-]+", dockerfile) and "clone" not in dockerfile
    assert "curl" not in dockerfile and "wget" not in dockerfile
    assert "COPY emulator/input-plugin/src /src/input-plugin/src" in dockerfile
    assert "make -C /src/input-plugin" in dockerfile
    assert "libmupen64plus-dev" in dockerfile and "libmupen64plus2" in dockerfile
    assert "mupen64plus-ui-console" not in dockerfile, "the frontend is the front end"
    assert "COPY --from=plugin /out/mupen64plus-input-tensorkart.so" in dockerfile
    assert "pip install --no-deps ./core ./services/emulator" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.M)
    assert re.search(r'^CMD \["start-emulator"\]', dockerfile, re.M)


def test_the_frontend_runs_under_xvfb_run_with_no_x_port():
    dockerfile = instructions(EMULATOR / "Dockerfile")
    start = instructions(EMULATOR / "start-emulator.sh")
    frontend = instructions(EMULATOR / "run-frontend.sh")
    assert "6000" not in dockerfile and "VOLUME" not in dockerfile
    assert "xvfb-run" in start and "--listen-tcp" not in start
    assert "-nolisten tcp -nolisten local" in start
    assert "exec python -m tensorkart_emulator run" in frontend
    assert "-viewonly" in frontend.split()


def test_capture_n64_reads_the_feed_and_shares_no_display():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    n64, capture = services["n64"], services["capture-n64"]
    assert n64["build"] == {"context": ".", "dockerfile": "deploy/emulator/Dockerfile"}
    environment = n64["environment"]
    assert environment["EMULATOR_CONTROLLER_ADDR"] == "controller:50053"
    assert environment["EMULATOR_INPUT_BOT_HOST"] == "controller"
    command = capture["command"]
    assert command[command.index("--source") + 1] == "sim"
    assert command[command.index("--sim-address") + 1] == "n64:50056"
    assert "DISPLAY" not in capture["environment"] and "DISPLAY" not in environment
    for service in services.values():
        assert not [v for v in service.get("volumes", []) if "X11" in str(v)], "no X display is shared"
    assert all("6000" not in str(port) for port in n64.get("ports", []))
