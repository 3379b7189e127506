"""The n64 profile's emulator image, as files: built from Debian packages and this repository
(no git clone), installs our plugin, and keeps the X display off the network (capture-n64
gets only the display's unix socket). `make n64-image` builds it and runs its self-check."""

from __future__ import annotations

import re

import yaml

from tests.helpers import REPO

EMULATOR = REPO / "deploy" / "emulator"


def instructions(path) -> str:
    return "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))


def test_image_builds_our_plugin_from_the_repository_with_debian_packages_only():
    dockerfile = instructions(EMULATOR / "Dockerfile")
    assert "git" not in re.findall(r"[\w.+-]+", dockerfile) and "clone" not in dockerfile
    assert "curl" not in dockerfile and "wget" not in dockerfile
    assert "COPY emulator/input-plugin/src /src/input-plugin/src" in dockerfile
    assert "make -C /src/input-plugin" in dockerfile
    assert "libmupen64plus-dev" in dockerfile and "mupen64plus-ui-console" in dockerfile
    assert "COPY --from=build /out/mupen64plus-input-tensorkart.so" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.M)


def test_x_display_is_not_exposed_over_tcp():
    dockerfile = instructions(EMULATOR / "Dockerfile")
    start = instructions(EMULATOR / "start-emulator.sh")
    assert "6000" not in dockerfile
    assert "-ac" not in start.split() and "-listen" not in start.split()
    assert "-nolisten tcp -nolisten local" in start
    assert '--input "$INPUT_PLUGIN"' in start
    assert "Input-Bot-Control0[timeout_ms]=$INPUT_BOT_TIMEOUT_MS" in start


def test_capture_gets_only_the_display_socket():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    n64, capture = services["n64"], services["capture-n64"]
    assert n64["build"] == {"context": ".", "dockerfile": "deploy/emulator/Dockerfile"}
    assert "x11-socket:/tmp/.X11-unix" in n64["volumes"]
    assert "x11-socket:/tmp/.X11-unix:ro" in capture["volumes"]
    assert capture["environment"]["DISPLAY"] == ":0"
    assert all("6000" not in str(port) for port in n64.get("ports", []))
    others = [name for name, service in services.items() if name not in {"n64", "capture-n64"}]
    assert not [name for name in others if any("x11-socket" in str(v) for v in services[name].get("volumes", []))]
