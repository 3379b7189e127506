"""Architecture rules that keep the services separable: a service imports only the shared
package (never another service), and capture, recorder and controller never load TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").is_file())
TF_FREE = ["capture", "recorder", "controller"]
# Service packages another service uses as a library, declared in its pyproject.toml: the trainer's
# worker runs closed-loop evaluation on the practice track in-process (tensorkart_trainer.closed_loop).
LIBRARIES = {"trainer": {"tensorkart_simulator"}}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_service_imports_no_other_service(service: str) -> None:
    others = ({f"tensorkart_{name}" for name in SERVICES if name != service} | {"tensorkart_cli"}) - LIBRARIES.get(
        service, set()
    )
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_top_levels(path) & others)
        for path in (REPO / "services" / service).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("service", TF_FREE)
def test_edge_services_never_load_tensorflow(service: str) -> None:
    package = REPO / "services" / service / f"tensorkart_{service}"
    modules = sorted(
        ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for path in package.rglob("*.py")
        if path.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_each_service_declares_only_its_own_dependencies() -> None:
    for service in TF_FREE:
        text = (REPO / "services" / service / "pyproject.toml").read_text().lower()
        assert "tensorflow" not in text and "keras" not in text, service
    for service, libraries in LIBRARIES.items():
        text = (REPO / "services" / service / "pyproject.toml").read_text()
        for library in libraries:
            assert f'"{library.replace("_", "-")}==' in text, f"{service} must declare {library}"
