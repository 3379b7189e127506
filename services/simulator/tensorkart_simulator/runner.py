"""One simulator run: the game loop, its pacing, window or headless output, the feed, the report.

Order of one game frame (as with the real emulator): render frame n -> publish n on the feed ->
poll the driver for frame n (the controller driver: one input-bot GET /0) -> physics step ->
render n + 1. The run ends after the requested laps, after --max-seconds simulated seconds,
when the window is closed, or on SIGTERM/SIGINT; the final frame goes out with finished = true.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tensorkart_core.frame_feed import FeedServicer, FrameFeed
from tensorkart_core.images import encode_frame
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc
from tensorkart_simulator import physics
from tensorkart_simulator.drivers import Driver
from tensorkart_simulator.game import Game
from tensorkart_simulator.options import SimOptions
from tensorkart_simulator.pad import NEUTRAL, Pad
from tensorkart_simulator.render import Mode7Renderer
from tensorkart_simulator.themes import Theme, theme_for_run
from tensorkart_simulator.track import Track, load_track
from tensorkart_simulator.traffic import Traffic

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 10.0


def make_driver(options: SimOptions) -> Driver:
    if options.driver == "expert":
        from tensorkart_simulator.drivers.expert import ExpertDriver

        return ExpertDriver(seed=options.seed, noise=options.noise, manoeuvres=options.manoeuvres)
    if options.driver == "controller":
        from tensorkart_simulator.drivers.controller import ControllerDriver

        return ControllerDriver(options.input_bot, timeout=options.poll_timeout)
    from tensorkart_simulator.drivers.gamepad import GamepadDriver

    return GamepadDriver()


def make_theme(options: SimOptions, track: Track) -> Theme:
    """--theme (else the track's default theme), with --theme-jitter seeded by --seed."""
    return theme_for_run(
        options.theme, track.default_theme, track.source, track.theme, options.seed, options.theme_jitter
    )


def make_traffic(options: SimOptions, track: Track) -> Traffic | None:
    return Traffic(track, options.traffic, seed=options.seed) if options.traffic else None


def make_report(options: SimOptions, game: Game, fps: float) -> dict[str, Any]:
    """The contract JSON: track, driver|model, laps, sim_seconds, interventions, autonomy, progress, fps."""
    who = {"model": options.label_model} if options.label_model else {"driver": options.driver}
    return {
        "track": game.track.name,
        **who,
        "laps": game.laps,
        "sim_seconds": round(game.sim_seconds, 3),
        "interventions": game.interventions,
        "autonomy": round(game.autonomy, 4),
        "progress": round(game.progress / game.track.centre.length, 4),
        "fps": round(fps, 1),
    }


def sim_frame(game: Game, rgb: np.ndarray, pad: Pad, finished: bool, lb: bool = False) -> simulator_pb2.SimFrame:
    frame = encode_frame(rgb, sequence=game.frame, capture_time_ns=time.monotonic_ns(), game_frame=game.frame)
    joystick = pad.joystick()
    joystick.lb = lb
    return simulator_pb2.SimFrame(
        frame=frame,
        joystick=joystick,
        laps=game.laps,
        interventions=game.interventions,
        sim_seconds=game.sim_seconds,
        finished=finished,
    )


def start_feed(options: SimOptions, feed: FrameFeed):
    """Serve the feed with the standard server bootstrap (health, reflection, auth, metrics)."""
    from tensorkart_core.grpc_server import Servicer, start_server
    from tensorkart_core.settings import load_settings
    from tensorkart_simulator.settings import SimulatorSettings

    settings = load_settings(SimulatorSettings).model_copy(update={"port": options.feed_port})
    servicer = Servicer(
        simulator_pb2_grpc.add_SimulatorServicer_to_server, FeedServicer(feed), "tensorkart.v1.Simulator"
    )
    running = start_server(settings, [servicer])
    log.info("frame feed on :%d (metrics :%d)", running.port, running.metrics_port)
    return running


class Run:
    """Everything one run owns; `execute()` plays it to the end and returns the report."""

    def __init__(
        self,
        options: SimOptions,
        track: Track | None = None,
        stop: threading.Event | None = None,
        on_frame: Callable[[int, np.ndarray], None] | None = None,
        on_finish: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        options.check()
        self.options = options
        self.track = track or load_track(options.track)
        self.game = Game(self.track, traffic=make_traffic(options, self.track))
        self.renderer = Mode7Renderer(
            self.game, hud=options.hud, laps=options.laps, theme=make_theme(options, self.track)
        )
        self.stop = stop or threading.Event()
        self.on_frame = on_frame
        self.on_finish = on_finish
        self.frames_rendered = 0
        self.supervisor = None
        if options.takeover == "expert":
            from tensorkart_simulator.drivers.takeover import ExpertTakeover

            self.supervisor = ExpertTakeover(seed=options.seed)

    def done(self) -> bool:
        o, g = self.options, self.game
        if o.laps and g.laps >= o.laps:
            return True
        if self.budget_spent():
            return True
        return o.max_seconds is not None and g.sim_seconds >= o.max_seconds - 1e-9

    def budget_spent(self) -> bool:
        """The expert has had control for --takeover-budget seconds (a DAgger round's share of the data budget)."""
        budget = self.options.takeover_budget
        return self.supervisor is not None and budget is not None and self.supervisor.frames * physics.DT >= budget

    def execute(self) -> dict[str, Any]:
        options = self.options
        window = None
        feed = FrameFeed(lockstep=not options.is_realtime) if options.serves_feed else None
        server = start_feed(options, feed) if feed else None
        driver: Driver | None = None
        try:
            if not options.headless:
                from tensorkart_simulator.window import GameWindow

                window = GameWindow()
            driver = make_driver(options)
            if feed and options.wait_for_subscriber:
                log.info("waiting for a feed subscriber")
                if not feed.wait_for_subscriber(self.stop):
                    raise SystemExit("stopped before a feed subscriber connected")
            report = self._loop(driver, feed, window)
            if self.on_finish is not None:
                self.on_finish(report)
            if window is not None and options.linger > 0:
                self._linger(window)
            return report
        finally:
            if driver is not None:
                driver.close()
            if feed is not None:
                if feed.total_dropped:
                    log.warning("feed: %d frames lost by subscribers that fell behind", feed.total_dropped)
                feed.close()
            if server is not None:
                server.stop(1.0)
            if window is not None:
                window.close()

    def _loop(self, driver: Driver, feed: FrameFeed | None, window: Any) -> dict[str, Any]:
        options, game = self.options, self.game
        realtime = options.is_realtime
        started = time.monotonic()
        next_tick = started
        next_progress = started + PROGRESS_EVERY_S
        previous = NEUTRAL
        while True:
            rgb = self.renderer.render()
            self.frames_rendered += 1
            finished = self.done() or self.stop.is_set()
            pad = previous
            if not finished and not driver.polls_after_publish:
                pad = driver.act(game)
            if window is not None:
                window.show(rgb)
                if window.closed():
                    self.stop.set()
            if self.on_frame is not None:
                self.on_frame(game.frame, rgb)
            if feed is not None:
                if self.supervisor is not None and not finished:  # the feed carries the expert's advice
                    advice, active = self.supervisor.advise(game)
                    feed.publish(sim_frame(game, rgb, advice, finished, lb=active), self.stop)
                else:
                    feed.publish(sim_frame(game, rgb, pad, finished), self.stop)
            if finished:
                break
            if driver.polls_after_publish:
                pad = driver.act(game)
            previous = pad
            game.step(pad)
            now = time.monotonic()
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                log.info(
                    "frame %d, %.0f s simulated, lap %d, %d interventions",
                    game.frame,
                    game.sim_seconds,
                    game.laps + 1,
                    game.interventions,
                )
            if realtime:
                next_tick += physics.DT
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_tick = time.monotonic()  # fell behind: don't try to catch up in a burst
        wall = max(time.monotonic() - started, 1e-9)
        report = make_report(options, game, self.frames_rendered / wall)
        if self.supervisor is not None:
            report["takeovers"] = self.supervisor.takeovers
            report["takeover_seconds"] = round(self.supervisor.frames * physics.DT, 3)
            report["takeover_budget_spent"] = self.budget_spent()
        return report

    def _linger(self, window: Any) -> None:
        until = time.monotonic() + self.options.linger
        while time.monotonic() < until and not window.closed() and not self.stop.is_set():
            time.sleep(0.05)


def run(options: SimOptions, **kwargs: Any) -> dict[str, Any]:
    """Play one run to its end and return the report."""
    return Run(options, **kwargs).execute()
