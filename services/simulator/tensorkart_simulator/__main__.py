"""Entry point: `python -m tensorkart_simulator run [options]` plays the practice track (the typer
app of tensorkart_simulator.cli; `tensorkart sim` runs the same command)."""

from __future__ import annotations

from tensorkart_simulator.cli import app

if __name__ == "__main__":
    app(prog_name="python -m tensorkart_simulator")
