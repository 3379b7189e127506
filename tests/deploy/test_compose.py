"""docker-compose.yml, its host-network test override, .env.example and the Dockerfiles, checked
structurally (parsed with PyYAML, anchors and merge keys resolved), and through `docker compose
config` / `docker-compose config` where one is installed (it needs no Docker engine)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO

DEFAULT_SERVICES = {
    "redis",
    "recorder",
    "trainer-api",
    "trainer-worker",
    "inference",
    "controller",
    "emulator",
    "capture",
}
PROFILE_SERVICES = {"inference-gpu": "gpu", "n64": "n64", "capture-n64": "n64"}
SERVICE_DOCKERFILES = ["capture", "recorder", "inference", "controller", "trainer", "simulator"]
NO_TENSORFLOW = ["capture", "recorder", "controller", "simulator"]


def load(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def mount(volume: str | dict) -> tuple[str, str, str]:
    """(source, target, "ro"|"rw") of a short- or long-syntax volume entry."""
    if isinstance(volume, dict):
        return volume.get("source", ""), volume["target"], "ro" if volume.get("read_only") else "rw"
    # Parsed from the right: an unresolved source such as ${DIR:-./roms} holds colons itself.
    rest, _, last = volume.rpartition(":")
    if last in {"ro", "rw"}:
        source, _, target = rest.rpartition(":")
        return source, target, last
    return rest, last, "rw"


def check_stack(config: dict) -> None:
    """What the acceptance asks of the stack, on a parsed compose file or `config` output."""
    services = config["services"]
    assert set(services) == DEFAULT_SERVICES | set(PROFILE_SERVICES)
    for name in DEFAULT_SERVICES:
        assert not services[name].get("profiles"), f"{name} must start with a plain `docker compose up`"
    for name, profile in PROFILE_SERVICES.items():
        assert services[name]["profiles"] == [profile]

    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable"), name
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for dependency, condition in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"} or condition.get("condition") == "service_healthy"
        if name != "redis":
            assert depends, f"{name} starts before what it needs"
        if name != "redis":
            mounts = [mount(v) for v in service["volumes"]]
            assert ("data", "/data") in [(source.rsplit("_", 1)[-1], target) for source, target, _ in mounts], name

    top_volumes = set(config["volumes"])
    assert {"data", "redis-data"} <= top_volumes
    redis = services["redis"]
    command = redis["command"] if isinstance(redis["command"], list) else redis["command"].split()
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--dir") + 1] == "/data"
    assert [(s, t) for s, t, _ in map(mount, redis["volumes"])] == [("redis-data", "/data")]

    worker = services["trainer-worker"]
    assert "container_name" not in worker and not worker.get("ports"), "workers must scale with --scale"
    assert worker["command"][-1] == "tensorkart_trainer.worker"
    assert services["trainer-api"]["image"] == worker["image"], "API and worker share the trainer image"

    gpu = services["inference-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert gpu["build"]["args"]["VARIANT"] == "gpu"
    assert gpu["environment"]["INFERENCE_BACKEND"] == "tensorflow"

    n64 = services["n64"]
    rom = [m for m in map(mount, n64["volumes"]) if m[1] == "/roms"]
    assert rom and rom[0][2] == "ro", "the ROM directory must be mounted read-only"
    assert n64["environment"]["EMULATOR_ROM"].startswith("/roms/")
    capture = services["capture-n64"]
    assert "n64:50056" in capture["command"], "capture-n64 reads the emulator's frame feed"
    assert "DISPLAY" not in capture["environment"]  # frames come from the feed, not a screen


def test_compose_file_structure() -> None:
    check_stack(load("docker-compose.yml"))


def test_every_variable_has_a_default_or_is_documented_in_env_example() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for match in re.finditer(r"(?<!\$)\$\{([A-Z0-9_]+)(:?-[^}]*)?\}", text):
        name, default = match.group(1), match.group(2)
        assert default is not None or name in documented, f"${{{name}}} has no default and is not in .env.example"
    for secret in ["TENSORKART_TOKEN", "TENSORKART_TLS_CERT", "TENSORKART_TLS_KEY", "TENSORKART_TLS_CA", "N64_ROM_DIR"]:
        assert secret in documented


def test_host_network_override_covers_the_default_stack() -> None:
    base = load("docker-compose.yml")["services"]
    override = load("docker-compose.hostnet.yml")["services"]
    assert set(override) == DEFAULT_SERVICES
    for name, service in override.items():
        assert service["network_mode"] == "host", name
        if "build" in base[name]:
            assert service["build"] == {"network": "host"}, name
        # Host networking shares the host's ports: nothing may stay on a default port.
        flat = yaml.safe_dump(service)
        for default in ["50051", "50052", "50053", "50054", ":8000", ":8082", "6379/"]:
            assert default not in flat, f"{name} still uses default port {default}"


@pytest.mark.parametrize("name", SERVICE_DOCKERFILES)
def test_service_dockerfiles(name: str) -> None:
    text = (REPO / "services" / name / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert len(re.findall(r"^FROM \$\{PYTHON_IMAGE\}", text, re.M)) == 2, "multi-stage: build + runtime"
    # Dependencies (pinned) in their own cached layer, then the code without dependencies.
    assert f"project_deps.py core/pyproject.toml services/{name}/pyproject.toml" in text
    assert "pip install -r /tmp/deps.txt -c requirements/constraints.txt" in text
    assert f"pip install --no-deps ./core ./services/{name}" in text
    assert re.search(r"^USER 10001", text, re.M), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK ", text, re.M) or name == "capture"
    assert "COPY --from=build /opt/venv /opt/venv" in text
    instructions = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if name in NO_TENSORFLOW:
        assert "tensorflow" not in instructions.lower()
    pyproject = (REPO / "services" / name / "pyproject.toml").read_text()
    if name in [*NO_TENSORFLOW, "inference"]:
        assert "tensorflow" not in pyproject.split("[project.optional-dependencies]")[0].lower()


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in [".git", ".venv", "data", "tests", "deploy/certs"]:
        assert entry in ignored


@pytest.mark.parametrize(
    "files,profiles",
    [
        (["docker-compose.yml"], []),
        (["docker-compose.yml"], ["gpu", "n64"]),
        (["docker-compose.yml", "docker-compose.hostnet.yml"], []),
    ],
)
def test_compose_config_validates(files: list[str], profiles: list[str], tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (make compose-test installs one)")
    args = [*command, "--project-directory", str(REPO)]
    for name in files:
        args += ["-f", str(REPO / name)]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run(
        [*args, "config"], capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    if len(files) == 1:
        assert {"redis", "inference"} <= set(config["services"])
        if profiles:
            check_stack(config)
    else:
        for name in DEFAULT_SERVICES:
            assert config["services"][name]["network_mode"] == "host", name
