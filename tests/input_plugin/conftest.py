"""Fixtures for the input plugin tests: the plugin built from emulator/input-plugin, poller
children that are always stopped, loopback servers that are always closed, and the real
controller service (the controller tests' fixture)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.controller.conftest import start_controller  # noqa: F401 - re-exported fixture
from tests.input_plugin.support import LoopbackServer, Poller, build_plugin


@pytest.fixture(scope="session")
def plugin_path() -> Path:
    return build_plugin()


@pytest.fixture
def poller(plugin_path: Path) -> Iterator[Callable[..., Poller]]:
    """poller(settings, as_strings=False) -> a running Poller, killed at teardown if still alive."""
    started: list[Poller] = []

    def start(settings: list[str], as_strings: bool = False) -> Poller:
        child = Poller(settings, as_strings=as_strings, plugin=plugin_path)
        started.append(child)
        return child

    yield start
    for child in started:
        child.close()


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(handle, accept: bool = True) -> LoopbackServer:
        server = LoopbackServer(handle, accept=accept)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
