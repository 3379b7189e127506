"""The edge play relay: frames from a capture source -> one Drive stream to the inference
server -> each Steering pushed to the controller (one PushSteering stream).

    source (screen | sim | replay) --Frame--> inference (INFERENCE_ADDR, may be a remote GPU host)
                                   <-Steering-
                                   --Steering--> controller (CONTROLLER_ADDR) --> input plugin

Inference stays stateless; the relay owns the loop. It pre-processes at the edge when the
server publishes its model's spec (GetModelInfo), so a remote host receives ~40 KB per
frame, and re-reads it every second and when the server refuses a frame as pre-processed for
another spec (hot swap to a model with another spec). Frames it
knows are old (waiting longer than `max_frame_age_ms` on this host, the clock the capture
times come from) are dropped and counted, never sent. Either stream breaking is retried with
exponential backoff; meanwhile frames are dropped (counted) and the controller falls back to
neutral on its own safety timeout, then resumes when the relay reconnects.

Manual override: a human source (gamepad, or the source's own joystick) holding LB drives:
the human's stick is pushed as source=HUMAN (the controller ignores model steering while
human steering is fresh) and those frames + stick are recorded as the dataset
`<session>-interventions` (DAgger). Shadow mode: the controller is configured to let only
human steering drive; model and human steering are both pushed and the controller measures
their agreement (shown in the progress line and the result).

`python -m tensorkart_capture.relay --source sim --sim-address HOST:PORT` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Literal, get_args

import grpc
import numpy as np
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES, make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.logs import setup_logging
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import (
    controller_pb2,
    controller_pb2_grpc,
    inference_pb2,
    inference_pb2_grpc,
    types_pb2,
)
from tensorkart_core.settings import CommonSettings, load_settings
from tensorkart_core.steering_push import (
    CLOSE,
    PUSH_CONTROLLER_KEY,
    PUSH_PORT_KEY,
    Attempt,
    Mailbox,
    SteeringPusher,
    backoff,
    is_loopback_address,
)

log = logging.getLogger(__name__)

SteeringRoute = Literal["auto", "relay", "direct"]
STEERING_ROUTES: tuple[str, ...] = get_args(SteeringRoute)

HUMAN = types_pb2.STEERING_SOURCE_HUMAN
SPEC_MISMATCH = "pre-processed for spec"


class RelaySettings(CommonSettings):
    """INFERENCE_ADDR, CONTROLLER_ADDR, RECORDER_ADDR (+ the shared TENSORKART_* variables)."""

    model_config = SettingsConfigDict(env_prefix="CAPTURE_", extra="ignore")

    inference_addr: str = Field("127.0.0.1:50052", validation_alias=AliasChoices("INFERENCE_ADDR"))
    controller_addr: str = Field("127.0.0.1:50053", validation_alias=AliasChoices("CONTROLLER_ADDR"))
    recorder_addr: str = Field("127.0.0.1:50051", validation_alias=AliasChoices("RECORDER_ADDR"))


@dataclass
class RelayOptions:
    inference_addr: str
    controller_addr: str
    port: int = 0  # N64 controller port the steering drives
    edge_preprocess: bool = True
    shadow: bool = False
    max_frame_age_ms: float = 250.0  # a frame waiting longer than this at the edge is dropped
    queue_size: int = 8  # frames waiting to be sent; the oldest is dropped beyond this
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 2.0
    session: str = ""
    recorder_addr: str | None = None  # interventions are recorded when set
    drain_timeout_s: float = 3.0
    model_refresh_s: float = 1.0  # how often the served model's spec is re-read (hot swaps)
    # Who delivers model steering to the controller: "relay" (this relay forwards every answer),
    # "direct" (the inference server pushes it to controller_addr itself, one hop less; it must
    # reach that address), "auto" (direct when inference and controller are on this host's loopback).
    steering_route: SteeringRoute = "auto"

    @property
    def wants_direct(self) -> bool:
        if self.steering_route == "auto":
            return is_loopback_address(self.inference_addr) and is_loopback_address(self.controller_addr)
        return self.steering_route == "direct"


@dataclass
class RelayStats:
    """What the relay did; `dropped` frames never reached the model."""

    captured: int = 0
    sent: int = 0
    answered: int = 0
    stale: int = 0
    invalid: int = 0
    pushed: int = 0  # steering this relay sent to the controller (human, and model answers it forwarded)
    direct: int = 0  # model answers the inference server delivered to the controller itself
    human_pushed: int = 0
    overrides: int = 0
    dropped_old: int = 0
    dropped_queue_full: int = 0
    dropped_disconnected: int = 0
    lost_in_flight: int = 0
    inference_reconnects: int = 0
    controller_reconnects: int = 0
    models: list[str] = field(default_factory=list)
    latency_p50_ms: float = 0.0  # capture -> steering handed to the controller stream (edge clock)
    latency_p99_ms: float = 0.0
    agreement: dict[str, float] = field(default_factory=dict)
    interventions: dict[str, object] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.dropped_old + self.dropped_queue_full + self.dropped_disconnected + self.lost_in_flight

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "dropped": self.dropped}


@dataclass
class _ModelView:
    version: str = ""
    spec: PreprocessSpec | None = None


class Relay:
    """Runs the play loop for frames from `source` until it ends or `stop` is set."""

    def __init__(
        self,
        options: RelayOptions,
        human: Callable[[CapturedFrame], types_pb2.Joystick | None] | None = None,
        interventions: object | None = None,
    ) -> None:
        self.options = options
        self.human = human
        self.interventions = interventions  # a RecordingStreamer (offer/close), or None
        self.stats = RelayStats()
        self.pusher = SteeringPusher(
            options.controller_addr, options.backoff_initial_s, options.backoff_max_s, options.drain_timeout_s
        )
        self.connected = threading.Event()
        self._outbox = Mailbox(options.queue_size)
        self._in_flight: OrderedDict[int, int] = OrderedDict()  # sequence -> capture_time_ns
        self._lock = threading.Lock()
        self._model = _ModelView()
        self._refresh = threading.Event()
        self._latencies: deque[int] = deque(maxlen=10_000)
        self._stop = threading.Event()
        self._closing = False
        self._started = False
        self._thread = threading.Thread(target=self._inference_loop, name="inference-drive", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Relay:
        if self._started:
            return self
        self._started = True
        self.pusher.start()
        if self.options.shadow:
            self._configure_shadow(True)
        self._thread.start()
        return self

    @property
    def edge_spec(self) -> PreprocessSpec | None:
        """The pre-processing applied at the edge now (the served model's), None = full frames."""
        return self._model.spec if self.options.edge_preprocess else None

    def wait_connected(self, timeout: float) -> bool:
        """Start if needed and wait until the Drive stream is open."""
        self.start()
        return self.connected.wait(timeout)

    def run(
        self,
        source: Iterable[CapturedFrame],
        stop: threading.Event | None = None,
        on_progress: Callable[[RelayStats], None] | None = None,
        progress_every_s: float = 1.0,
    ) -> RelayStats:
        """Relay every frame of `source`; returns the totals once the answers are drained."""
        stop = stop or threading.Event()
        self.start()
        last_progress = time.monotonic()
        try:
            for frame in source:
                self.offer(frame)
                if on_progress and time.monotonic() - last_progress >= progress_every_s:
                    last_progress = time.monotonic()
                    on_progress(self.snapshot())
                if stop.is_set():
                    break
        finally:
            self.close()
        return self.snapshot()

    def close(self) -> None:
        """Wait for the answers in flight (bounded), then end both streams."""
        deadline = time.monotonic() + self.options.drain_timeout_s
        while time.monotonic() < deadline and (self._in_flight or self._outbox.pending()) and self.connected.is_set():
            time.sleep(0.005)
        self._closing = True
        self._outbox.put(CLOSE)
        self._thread.join(self.options.drain_timeout_s)
        self._stop.set()
        self._thread.join(2.0)
        self.pusher.close()
        if self.options.shadow:
            self.stats.agreement = self.agreement()
            self._configure_shadow(False)
        if self.interventions is not None:
            result = self.interventions.close()
            self.stats.interventions = result.to_dict() if hasattr(result, "to_dict") else {}

    # -- capture side ---------------------------------------------------------------------
    def offer(self, captured: CapturedFrame) -> None:
        """Hand one captured frame to the loop (never blocks on the network)."""
        stats = self.stats
        stats.captured += 1
        human = self.human(captured) if self.human else None
        if human is not None and (human.lb or self.options.shadow):
            self._push_human(captured, human)
        if not self.connected.is_set():
            stats.dropped_disconnected += 1
            return
        spec = self.edge_spec
        if spec is not None:
            frame = encode_frame(
                spec.prepare(captured.rgb),
                captured.sequence,
                captured.capture_time_ns,
                game_frame=captured.game_frame,
                preprocess_id=spec.id,
            )
        else:
            frame = encode_frame(
                captured.rgb, captured.sequence, captured.capture_time_ns, game_frame=captured.game_frame
            )
        self._outbox.put(frame)
        stats.dropped_queue_full = self._outbox.dropped

    def _push_human(self, captured: CapturedFrame, human: types_pb2.Joystick) -> None:
        joystick = types_pb2.Joystick()
        joystick.CopyFrom(human)
        steering = types_pb2.Steering(
            frame_sequence=captured.sequence,
            capture_time_ns=captured.capture_time_ns,
            source=HUMAN,
            joystick=joystick,
            port=self.options.port,
        )
        self.pusher.push(steering)
        self.stats.human_pushed += 1
        if human.lb and not self.options.shadow:
            self.stats.overrides += 1
            if self.interventions is not None:
                frame = encode_frame(
                    captured.rgb, captured.sequence, captured.capture_time_ns, game_frame=captured.game_frame
                )
                self.interventions.offer(types_pb2.Sample(frame=frame, joystick=joystick))

    # -- inference side ---------------------------------------------------------------------
    def _frames(self, attempt: Attempt) -> Iterator[types_pb2.Frame]:
        max_age_ns = int(self.options.max_frame_age_ms * 1e6)
        for item in self._outbox.take(attempt):
            if time.monotonic_ns() - item.capture_time_ns > max_age_ns:
                self.stats.dropped_old += 1
                continue
            with self._lock:
                self._in_flight[item.sequence] = item.capture_time_ns
            self.stats.sent += 1
            yield item

    def _read_model(self, stub: inference_pb2_grpc.InferenceStub) -> None:
        try:
            info = stub.GetModelInfo(inference_pb2.GetModelInfoRequest(), timeout=5)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            self._model = _ModelView()
            return
        if info.version == self._model.version:
            return
        spec = PreprocessSpec.from_json(info.preprocess_json) if info.preprocess_json else None
        self._model = _ModelView(info.version, spec)
        log.info("inference serves model %s (%s)", info.version, info.backend)

    def _inference_loop(self) -> None:
        delay = self.options.backoff_initial_s
        while not self._stop.is_set():
            channel = make_channel(self.options.inference_addr, ca_variables=INFERENCE_CA_VARIABLES)
            attempt = Attempt()
            try:
                grpc.channel_ready_future(channel).result(timeout=max(delay, 0.5))
                stub = inference_pb2_grpc.InferenceStub(channel)
                self._read_model(stub)
                self._follow_model(stub, attempt)
                self.connected.set()
                for steering in stub.Drive(self._frames(attempt), metadata=self._drive_metadata()):
                    delay = self.options.backoff_initial_s
                    self._on_answer(steering, stub)
                if self._closing:
                    return
            except grpc.FutureTimeoutError:
                pass
            except grpc.RpcError as error:
                log.warning("inference stream broke (%s: %s); reconnecting", error.code().name, error.details())
            finally:
                attempt.dead = True
                self.connected.clear()
                with self._lock:
                    self.stats.lost_in_flight += len(self._in_flight)
                    self._in_flight.clear()
                if not self._closing:
                    self.stats.dropped_disconnected += self._outbox.clear()
                channel.close()
            if self._closing:
                return
            self.stats.inference_reconnects += 1
            delay = backoff(self._stop, delay, self.options.backoff_max_s)

    def _drive_metadata(self) -> tuple[tuple[str, str], ...]:
        """Ask the server to push answers to our controller itself (see RelayOptions.steering_route)."""
        if not self.options.wants_direct:
            return ()
        return ((PUSH_CONTROLLER_KEY, self.options.controller_addr), (PUSH_PORT_KEY, str(self.options.port)))

    def _follow_model(self, stub: inference_pb2_grpc.InferenceStub, attempt: Attempt) -> None:
        """Re-read the served model every `model_refresh_s` while this stream lives: after a
        swap to a model with another spec, answers may still come from the old model."""

        def follow() -> None:
            while not attempt.dead and not self._stop.wait(self.options.model_refresh_s):
                if attempt.dead:
                    return
                with contextlib.suppress(grpc.RpcError, ValueError):  # the Drive stream notices a broken link
                    self._read_model(stub)

        threading.Thread(target=follow, name="model-follow", daemon=True).start()

    def _on_answer(self, steering: types_pb2.Steering, stub: inference_pb2_grpc.InferenceStub) -> None:
        with self._lock:
            capture_ns = self._in_flight.pop(steering.frame_sequence, None)
        stats = self.stats
        stats.answered += 1
        if steering.error:
            stats.invalid += 1
            if SPEC_MISMATCH in steering.error:
                self._read_model(stub)
        elif steering.stale:
            stats.stale += 1
        if steering.pushed:
            stats.direct += 1
        else:
            steering.port = self.options.port
            self.pusher.push(steering)
        if capture_ns is not None:
            self._latencies.append(time.monotonic_ns() - capture_ns)
        version = steering.model_version
        if version and version not in stats.models:
            stats.models.append(version)

    # -- controller side ----------------------------------------------------------------------
    def _controller_call(self, call: Callable[[controller_pb2_grpc.ControllerStub], object]) -> object | None:
        channel = make_channel(self.options.controller_addr)
        try:
            return call(controller_pb2_grpc.ControllerStub(channel))
        except grpc.RpcError as error:
            log.warning("controller call failed: %s %s", error.code().name, error.details())
            return None
        finally:
            channel.close()

    def _configure_shadow(self, on: bool) -> None:
        self._controller_call(lambda stub: stub.Configure(controller_pb2.ControllerConfig(shadow=on), timeout=5))

    def agreement(self) -> dict[str, float]:
        """The controller's model-vs-human agreement for our port (shadow mode / overrides)."""
        state = self._controller_call(
            lambda stub: stub.GetState(controller_pb2.GetStateRequest(port=self.options.port), timeout=5)
        )
        if state is None or not state.HasField("agreement"):
            return {}
        a = state.agreement
        return {"frames": int(a.frames), "mean_abs_dx": round(a.mean_abs_dx, 4), "within_0_1": round(a.within_0_1, 4)}

    def snapshot(self) -> RelayStats:
        self.stats.pushed = self.pusher.sent
        self.stats.controller_reconnects = self.pusher.reconnects
        latencies = np.array(self._latencies, dtype=np.float64) / 1e6 if self._latencies else None
        if latencies is not None:
            self.stats.latency_p50_ms = round(float(np.percentile(latencies, 50)), 3)
            self.stats.latency_p99_ms = round(float(np.percentile(latencies, 99)), 3)
        return self.stats


def progress_line(stats: RelayStats, agreement: dict[str, float] | None = None) -> str:
    line = (
        f"\rframes {stats.captured}  answered {stats.answered}  stale {stats.stale}  dropped {stats.dropped}"
        f"  loop p50 {stats.latency_p50_ms:.1f} ms  model {stats.models[-1] if stats.models else '-'}"
    )
    if stats.overrides:
        line += f"  overrides {stats.overrides}"
    if agreement:
        line += f"  agreement {100 * agreement.get('within_0_1', 0):.0f}% (|dx| {agreement.get('mean_abs_dx', 0):.2f})"
    return line + "   "


def human_reader(kind: str, pad: str = "xbox", pad_index: int = 0):
    """'gamepad': the pad (LB = override); 'frame': the source's own joystick (sim driver,
    replay); 'none': no human."""
    if kind == "none":
        return None
    if kind == "frame":
        return lambda captured: captured.joystick
    from tensorkart_capture.gamepad import Gamepad, PadMapping

    gamepad = Gamepad(PadMapping.parse(pad), pad_index)
    return lambda _captured: gamepad.read()


def interventions_streamer(recorder_addr: str, session: str, metadata: dict[str, str]):
    from tensorkart_capture.streamer import RecordingStreamer

    return RecordingStreamer(recorder_addr, f"{session}-interventions", metadata, resume=True).start()


def parser(settings: RelaySettings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tensorkart_capture.relay", description=__doc__.splitlines()[0])
    p.add_argument("--source", choices=["screen", "sim", "replay"], default="screen")
    p.add_argument("--sim-address", help="simulator frame feed host:port (--source sim)")
    p.add_argument("--dataset", help="dataset to replay (--source replay)")
    p.add_argument("--rate", type=float, default=30.0, help="frames per second (screen, replay)")
    p.add_argument("--region", default="640x480", help="screen region WxH or LEFT,TOP,WxH")
    p.add_argument("--inference", default=settings.inference_addr, help="INFERENCE_ADDR")
    p.add_argument("--controller", default=settings.controller_addr, help="CONTROLLER_ADDR")
    p.add_argument("--recorder", default=settings.recorder_addr, help="RECORDER_ADDR (interventions)")
    p.add_argument("--port", type=int, default=0, help="N64 controller port 0-3")
    p.add_argument("--shadow", action="store_true", help="model predicts, the human drives; agreement is measured")
    p.add_argument("--human", choices=["gamepad", "frame", "none"], default="none", help="who can take over (LB)")
    p.add_argument("--pad", default="xbox")
    p.add_argument("--session", default=time.strftime("play-%Y%m%d-%H%M%S", time.gmtime()))
    p.add_argument("--no-record-interventions", action="store_true")
    p.add_argument(
        "--steering-route",
        choices=STEERING_ROUTES,
        default="auto",
        help="who delivers model steering to the controller: the inference server itself (direct, one hop less; "
        "it must reach --controller), this relay, or auto (direct when inference and controller are on this host)",
    )
    p.add_argument("--full-frames", action="store_true", help="send 640x480 frames (no edge pre-processing)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--quiet", action="store_true")
    return p


def source_for(args: argparse.Namespace, settings: CommonSettings):
    from tensorkart_capture.sources import open_source

    if args.source == "sim":
        if not args.sim_address:
            raise ValueError("--source sim needs --sim-address HOST:PORT (the simulator's --feed-port)")
        return open_source("sim", address=args.sim_address)
    if args.source == "replay":
        if not args.dataset:
            raise ValueError("--source replay needs --dataset NAME")
        return open_source("replay", data_root=settings.data_root, dataset=args.dataset, rate_hz=args.rate)
    return open_source("screen", region=args.region, rate_hz=args.rate)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings(RelaySettings)
    setup_logging("relay", settings.log_level)
    args = parser(settings).parse_args(argv)
    options = RelayOptions(
        args.inference,
        args.controller,
        port=args.port,
        edge_preprocess=not args.full_frames,
        steering_route=args.steering_route,
        shadow=args.shadow,
        session=args.session,
    )
    try:
        human = human_reader(args.human, args.pad)
        source = source_for(args, settings)
    except (ValueError, RuntimeError, ConnectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = human is not None and not args.shadow and not args.no_record_interventions
    streamer = interventions_streamer(args.recorder, args.session, {"source": args.source}) if record else None
    relay = Relay(options, human, streamer)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.seconds:
        threading.Timer(args.seconds, stop.set).start()

    def show(stats: RelayStats) -> None:
        if not args.quiet:
            print(progress_line(stats, relay.agreement() if args.shadow else None), end="", file=sys.stderr, flush=True)

    try:
        with source:
            stats = relay.run(source, stop, show)
    except ConnectionError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(file=sys.stderr)
    print(json.dumps(stats.to_dict(), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
