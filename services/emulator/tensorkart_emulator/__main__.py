"""Entry point: `python -m tensorkart_emulator run|save-state|check|check-plugins` (the typer app of
tensorkart_emulator.cli, also mounted as `tensorkart emulator`)."""

from __future__ import annotations

from tensorkart_emulator.cli import app

if __name__ == "__main__":
    app(prog_name="python -m tensorkart_emulator")
