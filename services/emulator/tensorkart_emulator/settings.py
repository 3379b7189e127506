"""Settings of the emulator frontend service (environment variables prefixed EMULATOR_, or CLI options)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tensorkart_core.settings import ServiceSettings
from tensorkart_emulator.plugins import DEBIAN_PLUGIN_DIR, default_input_plugin


class EmulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMULATOR_", extra="ignore")

    port: int = Field(50056, ge=0, le=65535)
    metrics_port: int = Field(9056, ge=0, le=65535)
    rom: Path | None = Field(None, description="the N64 ROM to run")
    state: Path | None = Field(None, description="savestate loaded at start (e.g. a Time Trial start line)")
    game: str | None = Field(None, description="game table of named RAM addresses: mk64, inputcpu or a JSON file")
    config_dir: Path = Field(Path("./data/emulator"), description="mupen64plus config directory")
    video_plugin: Path = DEBIAN_PLUGIN_DIR / "mupen64plus-video-rice.so"
    rsp_plugin: Path = DEBIAN_PLUGIN_DIR / "mupen64plus-rsp-hle.so"
    input_plugin: Path = Field(
        default_factory=default_input_plugin, description="tensorkart-input if installed or built, else Debian's SDL"
    )
    lockstep: bool = Field(True, description="hold the emulator at every frame (False: free-run in real time)")
    answer_delay: int = Field(1, ge=1, le=30, description="k: the answer to frame N drives frame N+k")
    answer_timeout_ms: int = Field(1000, ge=1, description="lock-step: how long to wait for the controller's answer")
    controller_addr: str | None = Field(
        None, description="controller host:port: frames carry its pad state; lock-step waits for its answers"
    )
    input_bot_host: str = "127.0.0.1"
    input_bot_port: int = Field(8082, ge=1, le=65535, description="the controller's input-bot HTTP port")
    input_bot_timeout_ms: int = Field(10, ge=1, le=10000, description="tensorkart-input: longest pad poll")
    max_frames: int = Field(0, ge=0, description="stop after this many frames (0: run until stopped)")
    laps: int = Field(0, ge=0, description="with a game table naming lap and course_progress: stop after N laps")
    max_seconds: float | None = Field(None, gt=0, description="stop after this much game time (frames / table fps)")
    label_model: str | None = Field(None, description='report "model": VERSION (tensorkart eval)')
    width: int = Field(640, ge=64, le=4096)
    height: int = Field(480, ge=48, le=4096)
