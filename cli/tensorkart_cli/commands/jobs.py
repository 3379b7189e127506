"""`tensorkart jobs list|show|follow|cancel`: training jobs through the trainer's REST API.

`follow` reads the job's server-sent events (GET /v1/jobs/ID/events), draws a progress bar on
stderr and prints the new model version last; `tensorkart train` follows its job the same way,
and `train --detach` prints the id that `jobs follow ID` takes.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from tensorkart_cli.commands._trainer_client import UrlOption, call, client, events, trainer_url, unreachable
from tensorkart_cli.errors import CliError

app = typer.Typer(help="list / show / follow / cancel training jobs", no_args_is_help=True)
TERMINAL = ("finished", "failed", "canceled")
RECONNECT_S = 0.5
JOBS_FIX = "see the jobs: tensorkart jobs list"
JobId = Annotated[str, typer.Argument(help="job id (as `tensorkart train --detach` or `jobs list` print it)")]


def _loss(view: dict[str, Any]) -> str:
    loss = (view.get("progress") or {}).get("loss")
    return f"{loss:.4f}" if isinstance(loss, int | float) else "-"


@app.command("list")
def list_(
    url: UrlOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many, newest first")] = 20,
) -> None:
    """Training jobs, newest first: id, state, datasets, model."""
    views = call(url, "GET", "/v1/jobs", params={"limit": limit})
    if not views:
        typer.echo(f"no training jobs on {trainer_url(url)} yet — start one: tensorkart train --dataset NAME")
        return
    for view in views:
        fraction = (view.get("progress") or {}).get("fraction")
        done = f"{100 * fraction:3.0f}%" if isinstance(fraction, int | float) and view["state"] == "running" else ""
        typer.echo(
            f"{view['id']}  {view.get('phase') or view['state']:<10} {done:>4}  {view.get('created') or '-':<24}  "
            f"{','.join(view.get('datasets') or [])}  -> {view.get('model_version') or '-'}"
            + (f"  ({view['error']})" if view.get("error") else "")
        )


@app.command("show")
def show(job_id: JobId, url: UrlOption = None) -> None:
    """One job's full view (state, progress, history, log tail) as JSON."""
    typer.echo(json.dumps(call(url, "GET", f"/v1/jobs/{job_id}", JOBS_FIX), indent=2, sort_keys=True))


@app.command("cancel")
def cancel(job_id: JobId, url: UrlOption = None) -> None:
    """Cancel a job: a queued one at once, a running one at its next training step."""
    view = call(url, "DELETE", f"/v1/jobs/{job_id}", JOBS_FIX)
    typer.echo(f"job {job_id}: cancel requested ({view['state']}); `tensorkart jobs follow {job_id}` shows its end")


def _views(http, job_id: str) -> Iterator[dict[str, Any]]:
    """The job's views over server-sent events until it ends; a stream that closes before the job has
    ended is opened again (as a browser's EventSource does), and its first event is the job's view."""
    while True:
        for view in events(http, job_id, JOBS_FIX):
            yield view
            if view["state"] in TERMINAL:
                return
        time.sleep(RECONNECT_S)


def follow_job(url: str | None, job_id: str, quiet: bool = False) -> dict[str, Any]:
    """Follow the job's events with a live progress bar (stderr) until it ends; return its last view."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [
        TextColumn("[bold]{task.fields[state]}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("epoch {task.fields[epoch]} step {task.fields[step]}"),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    import httpx

    seen_log: set[str] = set()
    view: dict[str, Any] = {}
    try:
        with client(url) as http:
            stream = _views(http, job_id)
            first = next(stream, None)  # a wrong id fails here, before any progress bar is drawn
            with Progress(*columns, console=Console(stderr=True), disable=quiet, transient=False) as progress:
                task = progress.add_task("train", total=1.0, state="queued", epoch="-", step="-", loss="-")
                for view in itertools.chain([first] if first else [], stream):
                    for line in view.get("log", []):
                        if line not in seen_log:
                            seen_log.add(line)
                            progress.console.print(f"[dim]{line}")
                    p = view.get("progress") or {}
                    progress.update(
                        task,
                        completed=1.0 if view["state"] == "finished" else float(p.get("fraction") or 0.0),
                        state=view.get("phase") or view["state"],
                        epoch=f"{p.get('epoch', 0)}/{p.get('epochs', '?')}",
                        step=f"{p.get('step', 0)}/{p.get('steps') or '?'}",
                        loss=_loss(view),
                    )
                    if view["state"] in TERMINAL:
                        break
    except httpx.TransportError:
        raise unreachable(url) from None
    return view


def finish(view: dict[str, Any]) -> None:
    """Print a followed job's outcome: the model version last on success, one error line otherwise."""
    job_id = view["id"]
    if view["state"] == "canceled":
        raise CliError(f"job {job_id} was canceled", "start a new one: tensorkart train --dataset NAME")
    if view["state"] != "finished":
        raise CliError(
            f"job {job_id} failed: {view.get('error') or 'no reason given'}", f"its log: tensorkart jobs show {job_id}"
        )
    metrics = view.get("metrics") or {}
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k in ("loss", "val_loss", "val_mae"))
    typer.echo(f"job {job_id} finished: {shown}", err=True)
    typer.echo(view["model_version"])


@app.command("follow")
def follow(
    job_id: JobId,
    url: UrlOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Follow a job live until it ends; prints the new model version last (exit 1 if it failed)."""
    try:
        view = follow_job(url, job_id, quiet)
    except KeyboardInterrupt:
        typer.echo(f"\nstopped following; job {job_id} goes on (cancel it: tensorkart jobs cancel {job_id})", err=True)
        raise typer.Exit(130) from None
    finish(view)
