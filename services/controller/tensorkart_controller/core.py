"""The controller's state machine: steering in, one N64 pad state per controller port out.

Thread model: gRPC worker threads call `apply`, the input-bot thread calls `poll`, one
timer thread answers lock-step polls whose wait ran out and notices safety timeouts.
All share one lock; the input-bot reply for each pad is pre-built when its state changes,
so a poll only picks bytes. Lock-step polls that must wait hand their connection to the
controller, which answers it from whichever thread brings fresh steering (or the timer).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time

from tensorkart_controller import metrics
from tensorkart_controller.agreement import AgreementTracker
from tensorkart_controller.httpwire import PORTS, send_and_close
from tensorkart_controller.mapping import NEUTRAL, Calibration, is_finite_joystick, pad_state
from tensorkart_controller.pads import (
    HUMAN,
    MAX_PLAUSIBLE_LATENCY_NS,
    MODEL,
    NEUTRAL_REPLY,
    POLLS_BY_PORT,
    SAFETY,
    SOURCE_LABELS,
    SOURCE_METRICS,
    Config,
    InvalidSteering,
    Pad,
    SourceMetrics,
    ok_reply,
)
from tensorkart_controller.settings import Mode
from tensorkart_core.proto.v1 import types_pb2

__all__ = ["Config", "Controller", "InvalidSteering"]

log = logging.getLogger(__name__)


class Controller:
    def __init__(
        self,
        config: Config,
        calibration: Calibration,
        safety_timeout_ms: int,
        agreement_window: int = 300,
    ) -> None:
        self._config = config
        self._calibration = calibration
        self._safety_ns = safety_timeout_ms * 1_000_000
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pads = [Pad(port, AgreementTracker(agreement_window), shadow=config.shadow) for port in range(PORTS)]
        self._agreement_window = agreement_window
        self._invalid_logged = 0
        self._closed = False
        self._timer = threading.Thread(target=self._timer_loop, name="controller-timer", daemon=True)
        self._timer.start()

    # -- steering in -------------------------------------------------------------------

    def apply(self, steering: types_pb2.Steering) -> bool:
        """Take one steering command; True when it set its pad's state.

        Raises InvalidSteering for a port outside 0-3 or non-finite stick values.
        """
        source = steering.source
        label = SOURCE_LABELS.get(source, "unspecified")
        counted = SOURCE_METRICS.get(source, SOURCE_METRICS[0])
        self._validate(steering, label, counted)
        now = time.monotonic_ns()
        with self._lock:
            pad = self._pads[steering.port]
            applied = self._decide(pad, steering, label, now)
            answered = self._release_lock_step(pad, steering, label, applied, now)
            reply = pad.reply if self._fresh(pad, now) else NEUTRAL_REPLY
            # The timer thread is not woken for the polls answered here: at the deadline it
            # slept for it finds them gone (waking it now would take the GIL from the reply).
        for conn, _deadline in answered:
            send_and_close(conn, reply)
        # Counted after the waiting polls are answered: the emulator is waiting, metrics are not.
        self._count(steering, counted, applied, now)
        return applied

    @staticmethod
    def _validate(steering: types_pb2.Steering, label: str, counted: SourceMetrics) -> None:
        """Raise InvalidSteering (counted as received and ignored) for a bad port or stick."""
        if steering.port < PORTS and is_finite_joystick(steering.joystick):
            return
        counted.received.inc()
        metrics.STEERING_IGNORED.labels(label, "invalid").inc()
        problem = (
            f"port {steering.port} is not a controller port (0-3)"
            if steering.port >= PORTS
            else f"joystick x={steering.joystick.x}, y={steering.joystick.y} is not finite"
        )
        raise InvalidSteering(f"steering for frame {steering.frame_sequence}: {problem}")

    def _decide(self, pad: Pad, steering: types_pb2.Steering, label: str, now: int) -> bool:
        """Compare, then set the pad's state unless the steering is stale, out of order or
        must not drive now; True when it was set (called under the lock)."""
        source = steering.source
        if not steering.stale:
            self._compare(pad, steering, now)
        out_of_order = 0 < steering.capture_time_ns < pad.last_capture_ns.get(source, 0)
        if steering.stale or out_of_order:
            metrics.STEERING_STALE.labels(label).inc()
            return False
        if reason := self._ignore_reason(pad, source, now):
            metrics.STEERING_IGNORED.labels(label, reason).inc()
            return False
        self._set(pad, steering, label, now)
        return True

    def _release_lock_step(
        self, pad: Pad, steering: types_pb2.Steering, label: str, applied: bool, now: int
    ) -> list[tuple[socket.socket, int]]:
        """Lock-step: applied steering for a new frame releases the waiting polls; so does a
        stale answer (the frame was answered, just not usable: the game should not wait for
        the timeout to get the current state). Returns the polls to answer (under the lock)."""
        if not (applied or steering.stale):
            return []
        if not self._late(steering.capture_time_ns, pad, now):
            pad.lock_step_ready = True
            return self._take_waiting(pad, now)
        if self._config.mode == "lock_step":
            metrics.LOCK_STEP_LATE.labels(label).inc()
        return []

    @staticmethod
    def _count(steering: types_pb2.Steering, counted: SourceMetrics, applied: bool, now: int) -> None:
        """Count the steering received (and applied, with its capture-to-state latency)."""
        counted.received.inc()
        if not applied:
            return
        counted.applied.inc()
        if steering.capture_time_ns > 0:
            latency = now - steering.capture_time_ns
            if 0 <= latency < MAX_PLAUSIBLE_LATENCY_NS:
                counted.latency.observe(latency / 1e9)

    def _ignore_reason(self, pad: Pad, source: int, now: int) -> str:
        """Why non-human steering must not drive now ("" when it may)."""
        if source == HUMAN:
            return ""
        if pad.shadow:
            return "shadow"
        return "override" if self._human_fresh(pad, now) else ""

    def _set(self, pad: Pad, steering: types_pb2.Steering, label: str, now: int) -> None:
        """Make `steering` the pad's state (called under the lock)."""
        source = steering.source
        state = NEUTRAL if source == SAFETY else pad_state(steering, self._calibration)
        if state != pad.state:
            pad.reply = ok_reply(state)
            pad.state = state
        # The timer thread sleeps until the next safety deadline it knows; it needs waking
        # only when a pad leaves neutral or an override begins.
        wake_timer = pad.neutral
        if pad.neutral:
            pad.neutral = False
            if pad.applied_ns:
                log.info("port %d: steering resumed (%s)", pad.port, label)
        if source == HUMAN:
            if not self._human_fresh(pad, now):
                log.info("port %d: human override begins", pad.port)
                metrics.HUMAN_OVERRIDE.labels(str(pad.port)).set(1)
                wake_timer = True
            pad.human_ns = now
        pad.source = source
        pad.frame_sequence = steering.frame_sequence
        pad.model_version = steering.model_version
        pad.applied_ns = now
        if steering.capture_time_ns > 0:
            pad.last_capture_ns[source] = steering.capture_time_ns
        if wake_timer:
            self._wake.notify()

    def _compare(self, pad: Pad, steering: types_pb2.Steering, now: int) -> None:
        """Feed the model-vs-human agreement window (shadow mode and overrides)."""
        x = steering.joystick.x
        if steering.source == HUMAN:
            dx = pad.agreement.human(steering.frame_sequence, x, now)
        elif steering.source in (MODEL, 0):
            dx = pad.agreement.model(steering.frame_sequence, x, now, self._safety_ns)
        else:
            return
        if dx is None:
            return
        port = str(pad.port)
        metrics.SHADOW_PAIRS.labels(port).inc()
        summary = pad.agreement.summary()
        metrics.SHADOW_MEAN_ABS_DX.labels(port).set(summary.mean_abs_dx)
        metrics.SHADOW_AGREEMENT.labels(port).set(summary.within_0_1)
        if pad.agreement.pairs_total % self._agreement_window == 0:
            log.info(
                "port %d: model vs human over %d frames: mean |dx| %.3f, %.0f%% within 0.1",
                pad.port,
                summary.frames,
                summary.mean_abs_dx,
                100 * summary.within_0_1,
            )

    def log_invalid(self, error: InvalidSteering) -> None:
        """Log a rejected stream message, without flooding the log."""
        self._invalid_logged += 1
        if self._invalid_logged == 1 or self._invalid_logged % 100 == 0:
            log.warning("ignored invalid steering (%d so far): %s", self._invalid_logged, error)

    # -- polls out ---------------------------------------------------------------------

    def poll(self, port: int, conn: socket.socket) -> bytes | None:
        """The reply to one input-bot poll of `port`, or None when the controller keeps
        `conn` to answer it later (lock-step: waiting for steering newer than the last served)."""
        POLLS_BY_PORT[port].inc()
        with self._lock:
            pad = self._pads[port]
            now = time.monotonic_ns()
            if self._config.mode == "lock_step" and not pad.lock_step_ready and not self._closed:
                pad.waiting.append((conn, now + self._config.lock_step_timeout_ms * 1_000_000))
                self._wake.notify()
                return None
            self._served(pad, now)
            return pad.reply if self._fresh(pad, now) else NEUTRAL_REPLY

    @staticmethod
    def _served(pad: Pad, now: int) -> None:
        pad.lock_step_ready = False
        pad.answered_ns = now

    @staticmethod
    def _late(capture_time_ns: int, pad: Pad, now: int) -> bool:
        """Does this steering answer a frame captured before the last poll was answered?

        The game renders the next frame only after its poll is answered (gym-mupen64plus, the
        practice track), so such steering is for a frame already played, typically after a
        lock-step timeout; counting it as fresh would make every later frame use the steering
        of the frame before. Capture times off the edge host's clock cannot be compared:
        those count as fresh, as in gym-mupen64plus.
        """
        comparable = now - MAX_PLAUSIBLE_LATENCY_NS < capture_time_ns <= now
        return comparable and capture_time_ns <= pad.answered_ns

    def _take_waiting(self, pad: Pad, now: int) -> list[tuple[socket.socket, int]]:
        """Hand out the pad's waiting lock-step polls, to be answered with its current reply."""
        waiting, pad.waiting = pad.waiting, []
        if waiting:
            self._served(pad, now)
        return waiting

    def _fresh(self, pad: Pad, now: int) -> bool:
        """Is the pad driven by recent steering? Notices (and counts) the fall to neutral."""
        if pad.applied_ns and now - pad.applied_ns <= self._safety_ns:
            return True
        if not pad.neutral:
            pad.neutral = True
            metrics.NEUTRAL_FALLBACKS.labels(str(pad.port)).inc()
            log.warning(
                "port %d: no steering for %d ms: neutral stick, A released",
                pad.port,
                (now - pad.applied_ns) // 1_000_000,
            )
        return False

    def _human_fresh(self, pad: Pad, now: int) -> bool:
        return bool(pad.human_ns) and now - pad.human_ns <= self._safety_ns

    def _timer_loop(self) -> None:
        """Answer lock-step polls whose wait ran out; notice safety timeouts when nobody polls."""
        while True:
            expired: list[tuple[socket.socket, bytes, int]] = []
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic_ns()
                next_ns = math.inf
                for pad in self._pads:
                    if pad.waiting:
                        due = [conn for conn, deadline in pad.waiting if deadline <= now]
                        pad.waiting = [(conn, deadline) for conn, deadline in pad.waiting if deadline > now]
                        next_ns = min([next_ns, *(deadline for _, deadline in pad.waiting)])
                        if due:
                            self._served(pad, now)
                            reply = pad.reply if self._fresh(pad, now) else NEUTRAL_REPLY
                            expired.extend((conn, reply, pad.port) for conn in due)
                    if not pad.neutral and self._fresh(pad, now):
                        next_ns = min(next_ns, pad.applied_ns + self._safety_ns + 1)
                    if pad.human_ns and not self._human_fresh(pad, now):
                        pad.human_ns = 0
                        log.info("port %d: human override ends", pad.port)
                        metrics.HUMAN_OVERRIDE.labels(str(pad.port)).set(0)
                    elif pad.human_ns:
                        next_ns = min(next_ns, pad.human_ns + self._safety_ns + 1)
                if not expired:
                    timeout = None if next_ns == math.inf else max(0.0, (next_ns - now) / 1e9)
                    self._wake.wait(timeout)
                    continue
            for conn, reply, port in expired:
                metrics.LOCK_STEP_TIMEOUTS.labels(str(port)).inc()
                send_and_close(conn, reply)

    # -- state and configuration -------------------------------------------------------

    def state(self, port: int) -> types_pb2.ControllerState:
        """What a poll of `port` would read now, with who set it and the agreement window."""
        if port >= PORTS:
            raise InvalidSteering(f"port {port} is not a controller port (0-3)")
        with self._lock:
            pad = self._pads[port]
            now = time.monotonic_ns()
            if self._fresh(pad, now):
                message = pad.state.to_proto()
                message.frame_sequence = pad.frame_sequence
                message.source = pad.source
                message.model_version = pad.model_version
            else:
                message = NEUTRAL.to_proto()
                message.source = SAFETY if pad.applied_ns else 0
            summary = pad.agreement.summary()
            message.agreement.frames = summary.frames
            message.agreement.mean_abs_dx = summary.mean_abs_dx
            message.agreement.within_0_1 = summary.within_0_1
            message.human_override = self._human_fresh(pad, now)
            message.shadow = pad.shadow
        return message

    def config(self, port: int = 0) -> Config:
        with self._lock:
            return Config(self._config.mode, self._pads[port].shadow, self._config.lock_step_timeout_ms)

    def configure(
        self, mode: Mode | None, shadow: bool | None, lock_step_timeout_ms: int | None, port: int = 0
    ) -> Config:
        """Change what is given (shadow: of pad `port` only); leaving lock-step answers the polls
        waiting now. Returns the configuration in force, with that pad's shadow mode."""
        if port >= PORTS:
            raise InvalidSteering(f"port {port} is not a controller port (0-3)")
        released: list[tuple[socket.socket, bytes]] = []
        with self._lock:
            pad = self._pads[port]
            old = Config(self._config.mode, pad.shadow, self._config.lock_step_timeout_ms)
            if mode is not None:
                self._config.mode = mode
            if shadow is not None:
                pad.shadow = shadow
            if lock_step_timeout_ms:
                self._config.lock_step_timeout_ms = lock_step_timeout_ms
            if self._config.mode != "lock_step":
                now = time.monotonic_ns()
                for each in self._pads:
                    reply = each.reply if self._fresh(each, now) else NEUTRAL_REPLY
                    released.extend((conn, reply) for conn, _ in self._take_waiting(each, now))
            self._wake.notify()
            new = Config(self._config.mode, pad.shadow, self._config.lock_step_timeout_ms)
        for conn, reply in released:
            send_and_close(conn, reply)
        if new != old:
            log.info(
                "configured: mode %s, shadow %s on pad %d, lock-step timeout %d ms",
                new.mode,
                "on" if new.shadow else "off",
                port,
                new.lock_step_timeout_ms,
            )
        return new

    def close(self) -> None:
        """Answer every waiting poll and stop the timer thread."""
        released: list[tuple[socket.socket, bytes]] = []
        with self._lock:
            self._closed = True
            now = time.monotonic_ns()
            for pad in self._pads:
                reply = pad.reply if self._fresh(pad, now) else NEUTRAL_REPLY
                released.extend((conn, reply) for conn, _ in self._take_waiting(pad, now))
            self._wake.notify()
        for conn, reply in released:
            send_and_close(conn, reply)
        self._timer.join(timeout=2)
