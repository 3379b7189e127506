"""The edge play relay: frames from a capture source -> one Drive stream to the inference
server -> each Steering pushed to the controller (one PushSteering stream).

    source (screen | sim | replay) --Frame--> inference (INFERENCE_ADDR, may be a remote GPU host)
                                   <-Steering-
                                   --Steering--> controller (CONTROLLER_ADDR) --> input plugin

Inference stays stateless; the relay owns the loop. It pre-processes at the edge when the
server publishes its model's spec (GetModelInfo), so a remote host receives ~40 KB per
frame, and re-reads it every second and when the server refuses a frame as pre-processed for
another spec (an answer with error_code SPEC_MISMATCH: a hot swap to a model with another
spec). Frames it knows are old (waiting longer than `max_frame_age_ms` on this host, the clock the capture
times come from) are dropped and counted, never sent. Both streams run on the resilient-stream
helper (tensorkart_core.resilient_stream: one channel each for the relay's lifetime, only the call
re-opened, with exponential backoff): a broken stream, a restarted server or a replica at its
stream cap (RESOURCE_EXHAUSTED) is retried by itself; meanwhile frames are dropped (counted) and
the controller falls back to neutral on its own safety timeout, then resumes. The relay is the
only writer of its pad: every answer goes to the controller through it.

Manual override: a human source (gamepad, or the source's own joystick) holding LB drives:
the human's stick is pushed as source=HUMAN (the controller ignores model steering while
human steering is fresh) and those frames + stick are recorded as the dataset
`<session>-interventions` (DAgger). Shadow mode: the controller is configured to let only
human steering drive this relay's pad (shadow is per pad); model and human steering are both
pushed and the controller measures their agreement (shown in the progress line and the result).

`python -m tensorkart_capture.relay --source sim --sim-address HOST:PORT` runs it alone (relay_cli.py).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import grpc
import numpy as np
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from tensorkart_capture import live_tap
from tensorkart_capture.model_watch import ModelWatch
from tensorkart_capture.relay_stats import RelayStats, progress_line  # noqa: F401 - the CLI commands import it from here
from tensorkart_capture.sources.base import CapturedFrame
from tensorkart_core.grpc_client import INFERENCE_CA_VARIABLES, make_channel
from tensorkart_core.images import encode_frame
from tensorkart_core.preprocess import PreprocessSpec
from tensorkart_core.proto.v1 import controller_pb2, controller_pb2_grpc, inference_pb2_grpc, types_pb2
from tensorkart_core.resilient_stream import Attempt, ResilientStream
from tensorkart_core.settings import CommonSettings
from tensorkart_core.steering_push import CLOSE, Mailbox, SteeringPusher

log = logging.getLogger(__name__)

HUMAN = types_pb2.STEERING_SOURCE_HUMAN


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
    live: bool = False  # tap frames for the dashboard's live view (live_tap.py; LIVE_ENABLED=0 turns it off)


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
        self.model = ModelWatch(options.model_refresh_s)
        self._outbox = Mailbox(options.queue_size)
        self._in_flight: OrderedDict[int, int] = OrderedDict()  # sequence -> capture_time_ns
        self._lock = threading.Lock()
        self._latencies: deque[int] = deque(maxlen=10_000)
        self._stop = threading.Event()
        self._started = False
        self.live = live_tap.from_env(options.session, options.shadow) if options.live else None
        self._drive = ResilientStream(
            lambda: make_channel(options.inference_addr, ca_variables=INFERENCE_CA_VARIABLES),
            self._drive_call,
            "inference-drive",
            options.backoff_initial_s,
            options.backoff_max_s,
            on_call_end=self._drive_ended,
        )

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Relay:
        if self._started:
            return self
        self._started = True
        self.pusher.start()
        if self.options.shadow:
            self._configure_shadow(True)
        self._drive.start()
        return self

    @property
    def edge_spec(self) -> PreprocessSpec | None:
        """The pre-processing applied at the edge now (the served model's), None = full frames."""
        return self.model.current.spec if self.options.edge_preprocess else None

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
        if self.live is not None:
            self.live.source = source
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
        self._drive.closing = True
        self._outbox.put(CLOSE)
        self._drive.join(self.options.drain_timeout_s)
        self._stop.set()
        self._drive.close()
        self.pusher.close()
        if self.live is not None:
            self.live.close()
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
            if self.live is not None:
                self.live.frame(captured, human)
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
        if self.live is not None:  # after the frame is on its way: the tap's copy is off its path
            self.live.frame(captured, human)

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

    def _drive_call(self, channel: grpc.Channel, attempt: Attempt) -> None:
        """One Drive call (the resilient stream re-opens it): read the served model, then relay."""
        stub = inference_pb2_grpc.InferenceStub(channel)
        self.model.read(stub)
        self.model.follow(stub, attempt, self._stop)
        call = stub.Drive(self._frames(attempt), wait_for_ready=True)
        attempt.call = call
        self.connected.set()
        for steering in call:
            attempt.made_progress = True
            self._on_answer(steering, stub)

    def _drive_ended(self, attempt: Attempt) -> None:
        self.connected.clear()
        with self._lock:
            self.stats.lost_in_flight += len(self._in_flight)
            self._in_flight.clear()
        if not self._drive.closing:
            self.stats.dropped_disconnected += self._outbox.clear()
            self.stats.inference_reconnects += 1

    def _on_answer(self, steering: types_pb2.Steering, stub: inference_pb2_grpc.InferenceStub) -> None:
        with self._lock:
            capture_ns = self._in_flight.pop(steering.frame_sequence, None)
        stats = self.stats
        stats.answered += 1
        if steering.error_code == types_pb2.STEERING_ERROR_SPEC_MISMATCH:
            stats.spec_mismatches += 1
            spec = self.model.current.spec
            if spec is None or spec.id != steering.serving_preprocess_id:
                self.model.read(stub)  # the server serves another spec now: switch to it
        elif steering.error_code != types_pb2.STEERING_ERROR_UNSPECIFIED:
            stats.invalid += 1
        elif steering.stale:
            stats.stale += 1
        steering.port = self.options.port
        self.pusher.push(steering)
        if self.live is not None:
            self.live.answer(steering)
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
        config = controller_pb2.ControllerConfig(shadow=on, port=self.options.port)  # shadow is per pad
        self._controller_call(lambda stub: stub.Configure(config, timeout=5))

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


if __name__ == "__main__":  # `python -m tensorkart_capture.relay`: the command line lives in relay_cli
    from tensorkart_capture.relay_cli import main

    sys.exit(main())
