"""Processes `tensorkart play` and `tensorkart eval` start: private inference / controller
servers and the practice track with its frame feed, plus running the edge relay between them.

Children run under the one launcher (tensorkart_core.launcher: own process group, SIGTERM then
SIGKILL); each binds port 0 and reports the ports it got, so no port is chosen before its server
binds it. Their output is kept (the simulator's report is its last JSON line) and shown with
--verbose or when something fails.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tensorkart_core.launcher import Child, Launcher, ServiceSpec, grpc_ready, python_module


class StackError(RuntimeError):
    """A private service did not start; the message carries its last log lines."""


@dataclass
class Outputs:
    """Every child's output lines (bounded), optionally echoed to stderr."""

    verbose: bool = False
    lines: dict[str, deque[str]] = field(default_factory=dict)

    def __call__(self, name: str, text: str) -> None:
        self.lines.setdefault(name, deque(maxlen=400)).append(text)
        if self.verbose:
            print(f"{name:<10} | {text}", file=sys.stderr, flush=True)

    def tail(self, name: str, count: int = 25) -> str:
        return "\n".join(list(self.lines.get(name, ()))[-count:])

    def last_error(self, name: str) -> str:
        """The child's own last error line (else its last line): what to show when it failed."""
        lines = [line.strip() for line in self.lines.get(name, ()) if line.strip()]
        for line in reversed(lines):
            lowered = line.lower()
            if "error" in lowered or lowered.startswith("tensorkart"):
                return line
        return lines[-1] if lines else "no output"

    def last_json(self, name: str) -> dict | None:
        for text in reversed(self.lines.get(name, ())):
            if text.startswith("{"):
                try:
                    return json.loads(text)
                except ValueError:
                    continue
        return None


@dataclass
class PrivateStack:
    """Private services on loopback ports they pick themselves, stopped together."""

    outputs: Outputs
    launcher: Launcher
    inference_addr: str = ""
    controller_addr: str = ""
    input_bot_url: str = ""

    @classmethod
    def create(cls, verbose: bool = False) -> PrivateStack:
        outputs = Outputs(verbose)
        return cls(outputs, Launcher(out=outputs, grace_seconds=10.0))

    def start_inference(self, data_root: Path, model: str) -> str:
        env = {
            "TENSORKART_DATA": str(data_root),
            "INFERENCE_MODEL": model,
            "INFERENCE_HOST": "127.0.0.1",
            "INFERENCE_PORT": "0",
            "INFERENCE_METRICS_PORT": "0",
        }
        child = self._start_reported(
            ServiceSpec("inference", python_module("tensorkart_inference"), env, ("grpc",), grpc_ready())
        )
        self.inference_addr = child.address("grpc")
        return self.inference_addr

    def start_controller(self, mode: str = "lock_step", lock_step_timeout_ms: int = 2000) -> str:
        env = {
            "CONTROLLER_HOST": "127.0.0.1",
            "CONTROLLER_HTTP_HOST": "127.0.0.1",
            "CONTROLLER_PORT": "0",
            "CONTROLLER_HTTP_PORT": "0",
            "CONTROLLER_METRICS_PORT": "0",
            "CONTROLLER_MODE": mode,
            "CONTROLLER_LOCK_STEP_TIMEOUT_MS": str(lock_step_timeout_ms),
            "CONTROLLER_SAFETY_TIMEOUT_MS": str(max(200, lock_step_timeout_ms)),
        }
        spec = ServiceSpec("controller", python_module("tensorkart_controller"), env, ("grpc", "http"), grpc_ready())
        child = self._start_reported(spec)
        self.controller_addr = child.address("grpc")
        self.input_bot_url = child.url("http")
        return self.controller_addr

    def _start_reported(self, spec: ServiceSpec, timeout: float = 120.0) -> Child:
        """Start `spec` and wait until it reported its ports (read from a file: no gRPC call
        in this process before every child is started; `wait_ready` probes them afterwards)."""
        child = self.launcher.start(spec)
        deadline = time.monotonic() + timeout
        while any(key not in child.ports for key in spec.ports):
            if not child.alive() or time.monotonic() > deadline:
                time.sleep(0.2)  # let its last lines arrive
                self.raise_if_dead()
                raise StackError(f"{spec.name} did not start in {timeout:.0f}s: {self.outputs.last_error(spec.name)}")
            time.sleep(0.05)
        return child

    def wait_ready(self, timeout: float = 120.0, children: list[Child] | None = None) -> None:
        """Every child ready; else StackError naming the child that failed, with its own last error line."""
        missing = self.launcher.wait_ready(timeout, children)
        self.raise_if_dead()
        if missing:
            name = missing[0].name
            raise StackError(f"{name} did not start in {timeout:.0f}s: {self.outputs.last_error(name)}")

    def raise_if_dead(self) -> None:
        """StackError for the first child that exited with an error (its own last error line), if any."""
        for child in self.launcher.dead():
            if child.process.returncode != 0:
                raise StackError(
                    f"{child.name} exited with status {child.process.returncode}: {self.outputs.last_error(child.name)}"
                )

    def start_simulator(self, arguments: list[str], timeout: float = 120.0) -> tuple[str, Child]:
        """Start `python -m tensorkart_simulator run ARGUMENTS --feed --wait-for-subscriber`; the
        feed's address once the simulator reported the port it bound."""
        command = python_module("tensorkart_simulator", "run", *arguments, "--feed", "--wait-for-subscriber")
        env = {"SIMULATOR_HOST": "127.0.0.1", "SIMULATOR_PORT": "0", "SIMULATOR_METRICS_PORT": "0"}
        child = self.launcher.start(ServiceSpec("simulator", command, env, ("grpc",)))
        return self.feed_address(child, timeout), child

    def feed_address(self, child: Child, timeout: float = 120.0) -> str:
        """The frame feed's address once `child` reported it; StackError if it died first."""
        deadline = time.monotonic() + timeout
        while "grpc" not in child.ports:
            if not child.alive() or time.monotonic() > deadline:
                time.sleep(0.2)  # let its last lines arrive
                state = f"exited with status {child.process.returncode}" if not child.alive() else "did not open it"
                raise StackError(
                    f"the practice track {state} before its feed opened: {self.outputs.last_error(child.name)}"
                )
            time.sleep(0.05)
        return child.address("grpc")

    def stop(self) -> None:
        self.launcher.stop_all()


def run_relay_on_sim(
    options,
    feed_address: str,
    simulator,
    stop: threading.Event,
    human: Callable | None = None,
    progress: Callable | None = None,
    connect_timeout: float = 60.0,
    outputs: Outputs | None = None,
):
    """Relay the simulator's feed until it finishes (or `stop`); returns the relay's stats."""
    from tensorkart_capture.relay import Relay

    relay = Relay(options, human)
    if not relay.wait_connected(connect_timeout):
        relay.close()
        raise StackError(f"inference at {options.inference_addr} did not accept a Drive stream")
    try:
        source = open_feed(feed_address, simulator, connect_timeout, outputs)
    except (StackError, ConnectionError):
        relay.close()
        raise
    try:
        return relay.run(source, stop, progress)
    finally:
        source.close()


def open_feed(feed_address: str, simulator, timeout: float, outputs: Outputs | None = None):
    """The simulator's frame feed as a capture source; fails fast if the simulator dies first."""
    from tensorkart_capture.sources import open_source

    deadline = time.monotonic() + timeout
    while True:
        if simulator.process.poll() is not None:
            time.sleep(0.2)  # let its last lines arrive
            cause = f": {outputs.last_error('simulator')}" if outputs is not None else ""
            raise StackError(
                f"the practice track exited with status {simulator.process.returncode} before its feed opened{cause}"
            )
        try:
            return open_source("sim", address=feed_address, connect_timeout=1.0)
        except ConnectionError:
            if time.monotonic() > deadline:
                raise


def wait_exit(child, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            return child.process.returncode
        time.sleep(0.05)
    return None
