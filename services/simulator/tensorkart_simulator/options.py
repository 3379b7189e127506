"""The options of a simulator run, shared by `python -m tensorkart_simulator run` and `tensorkart sim`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from tensorkart_simulator.drivers import DRIVERS

MAX_TRAFFIC = 12


@dataclass
class SimOptions:
    track: str = "luigi"
    driver: str = "expert"
    laps: int = 3
    headless: bool = False
    realtime: bool | None = None  # None: real-time with a window, lock-step headless
    seed: int = 0
    noise: float = 0.05
    manoeuvres: bool = True
    input_bot: str = "http://127.0.0.1:8082"
    poll_timeout: float = 2.0
    feed_port: int = 0
    feed: bool = False  # serve the feed on feed_port, 0 = any free port (reported: TENSORKART_PORTS_FILE)
    wait_for_subscriber: bool = False
    max_seconds: float | None = None
    hud: bool = True
    label_model: str | None = None
    report: bool = False
    linger: float = 0.0
    theme: str | None = None  # built-in theme name or theme file; None: the track's default
    theme_jitter: float = 0.0  # seeded lighting and colour randomisation (0: none, 1: strong)
    traffic: int = 0  # computer karts
    takeover: str = "none"  # "expert": the expert's advice (LB = takeover) on the feed, for DAgger

    @property
    def serves_feed(self) -> bool:
        return self.feed or self.feed_port != 0

    @property
    def is_realtime(self) -> bool:
        return (not self.headless) if self.realtime is None else self.realtime

    def check(self) -> None:
        """Reject contradictory or out-of-range options with a readable message."""
        if self.driver not in DRIVERS:
            raise ValueError(f"--driver must be one of {', '.join(DRIVERS)}, got {self.driver!r}")
        if self.laps < 0:
            raise ValueError(f"--laps must be >= 0, got {self.laps}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ValueError(f"--max-seconds must be positive, got {self.max_seconds}")
        if not 0 <= self.feed_port <= 65535:
            raise ValueError(f"--feed-port must be 0..65535, got {self.feed_port}")
        if self.noise < 0:
            raise ValueError(f"--noise must be >= 0, got {self.noise}")
        if self.poll_timeout <= 0:
            raise ValueError(f"--poll-timeout must be positive, got {self.poll_timeout}")
        if self.wait_for_subscriber and not self.serves_feed:
            raise ValueError("--wait-for-subscriber needs --feed-port")
        if not 0 <= self.traffic <= MAX_TRAFFIC:
            raise ValueError(f"--traffic must be 0..{MAX_TRAFFIC}, got {self.traffic}")
        if self.takeover not in ("none", "expert"):
            raise ValueError(f"--takeover must be none or expert, got {self.takeover!r}")
        if self.takeover == "expert" and not self.serves_feed:
            raise ValueError("--takeover expert needs --feed-port (its advice goes out on the feed)")
        if not 0 <= self.theme_jitter <= 1:
            raise ValueError(f"--theme-jitter must be 0..1, got {self.theme_jitter}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = SimOptions()
    parser.add_argument(
        "--track", default=d.track, help="built-in track (luigi, twists, heldout) or a track .json file"
    )
    parser.add_argument("--driver", default=d.driver, choices=DRIVERS)
    parser.add_argument("--laps", type=int, default=d.laps, help="stop after N laps (0: no lap limit)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="no window")
    mode.add_argument("--window", dest="headless", action="store_false", help="show the game window (default)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--realtime", dest="realtime", action="store_true", default=None, help="wall-clock 30 Hz")
    pace.add_argument("--lockstep", dest="realtime", action="store_false", help="no wall-clock pacing")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--noise", type=float, default=d.noise, help="expert steering noise (stick units)")
    parser.add_argument("--no-manoeuvres", dest="manoeuvres", action="store_false", help="expert never drifts")
    parser.add_argument("--input-bot", default=d.input_bot, help="input-bot endpoint polled by --driver controller")
    parser.add_argument("--poll-timeout", type=float, default=d.poll_timeout, help="seconds before a poll is neutral")
    parser.add_argument("--feed-port", type=int, default=d.feed_port, help="serve the gRPC frame feed (0 = off)")
    parser.add_argument(
        "--feed", action="store_true", help="serve the frame feed on --feed-port, 0 = any free port (reported)"
    )
    parser.add_argument("--wait-for-subscriber", action="store_true", help="start once a feed client is connected")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after S simulated seconds")
    parser.add_argument("--no-hud", dest="hud", action="store_false", help="hide lap, time and speed")
    parser.add_argument("--label-model", default=None, help='report "model": VERSION instead of "driver"')
    parser.add_argument("--report", action="store_true", help="print the result as one JSON line at the end")
    parser.add_argument("--linger", type=float, default=d.linger, help="window: keep the last frame up S seconds")
    parser.add_argument("--theme", default=None, help="raceway, beach, snow, desert, night or a theme .json file")
    parser.add_argument("--theme-jitter", type=float, default=d.theme_jitter, help="seeded lighting/colour jitter 0..1")
    parser.add_argument(
        "--takeover", default=d.takeover, choices=("none", "expert"), help="DAgger: the expert's advice on the feed"
    )
    parser.add_argument("--traffic", type=int, default=d.traffic, help=f"computer karts (0..{MAX_TRAFFIC})")


def from_namespace(ns: argparse.Namespace) -> SimOptions:
    return SimOptions(**{name: getattr(ns, name) for name in SimOptions.__dataclass_fields__})
