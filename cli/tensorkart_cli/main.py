"""`tensorkart` — the command-line entry point; each command lives in tensorkart_cli.commands."""

from __future__ import annotations

import typer

from tensorkart_cli.commands import (
    bench,
    dagger,
    datasets,
    emulator,
    evaluate,
    models,
    play,
    predict,
    prepare,
    record,
    sim,
    train,
    up,
)

app = typer.Typer(
    name="tensorkart",
    help="Self-driving Mario Kart 64 from screen pixels: record, train, play.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("up")(up.up)
app.command("sim")(sim.sim)
app.command("record")(record.record)
app.add_typer(datasets.app, name="datasets")
app.command("train")(train.train)
app.command("prepare")(prepare.prepare)
app.add_typer(models.app, name="models")
app.command("play")(play.play)
app.command("eval")(evaluate.evaluate)
app.command("dagger")(dagger.dagger)
app.command("predict")(predict.predict)
app.command("bench")(bench.bench)
app.add_typer(emulator.app, name="emulator")

if __name__ == "__main__":
    app()
