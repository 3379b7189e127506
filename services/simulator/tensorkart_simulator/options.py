"""The options of a simulator run (`python -m tensorkart_simulator run`, `tensorkart sim`: tensorkart_simulator.cli)."""

from __future__ import annotations

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
    takeover_budget: float | None = None  # --takeover expert: end the run after S seconds of takeovers

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
        if self.takeover_budget is not None and self.takeover != "expert":
            raise ValueError("--takeover-budget needs --takeover expert")
        if self.takeover_budget is not None and self.takeover_budget < 0:
            raise ValueError(f"--takeover-budget must be >= 0 seconds, got {self.takeover_budget}")
        if not 0 <= self.theme_jitter <= 1:
            raise ValueError(f"--theme-jitter must be 0..1, got {self.theme_jitter}")
