"""Export a dataset as a Rerun recording (`.rrd`): frames, steering as time series, interventions as events.

Timelines: `frame` (the timeline index, so cuts show as gaps) and `time` (seconds from session.json).
Entities: `camera` (each PNG as stored, no re-encoding), `steering/x`, `steering/y`, `buttons/a`,
`buttons/b`, `buttons/rb` (scalars), `events/interventions` (text events where a human took over:
session.json's `interventions`, a list of frame indices or [start, end] ranges, or every segment of a
DAgger interventions dataset) and `events/cuts` (where soft-deleted stretches were left out).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tensorkart_core.datasets.curation import frames
from tensorkart_core.datasets.export.episodes import ExportError
from tensorkart_core.datasets.layout import dataset_dir
from tensorkart_core.datasets.session import frame_rate, frame_times, load_session
from tensorkart_core.datasets.timeline import DEFAULT_FPS, image_of

APPLICATION_ID = "tensorkart"


def intervention_starts(session: dict[str, Any], name: str, count: int) -> set[int]:
    """Frame indices where a human took over, from session.json (see the module docstring)."""
    marks = session.get("interventions")
    starts: set[int] = set()
    if isinstance(marks, list):
        for mark in marks:
            if isinstance(mark, int):
                starts.add(mark)
            elif isinstance(mark, list | tuple) and mark and isinstance(mark[0], int):
                starts.add(mark[0])
    elif name.endswith("-interventions") and count:
        starts.add(0)  # a DAgger takeover recording: it starts with the human in control
    return {s for s in starts if 0 <= s < count}


def export_rerun(
    data_root: Path, names: list[str], out: Path, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Write the datasets as one recording (each under its own entity prefix when there are several)."""
    try:
        import rerun as rr
    except ImportError:
        raise ExportError("rerun-sdk is not installed: pip install 'tensorkart-core[export]'") from None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp.rrd")
    recording = rr.RecordingStream(APPLICATION_ID, recording_id=f"tensorkart-{'+'.join(names)}"[:200])
    recording.save(str(temp))
    every_name = [(n, frames(data_root, n)) for n in names]
    total = sum(len(f) for _n, f in every_name)
    done = 0
    for name, every in every_name:
        prefix = f"{name}/" if len(names) > 1 else ""
        session = load_session(dataset_dir(data_root, name))
        times = frame_times(session, len(every), frame_rate(session) or DEFAULT_FPS)
        takeovers = intervention_starts(session, name, len(every))
        previous_deleted = False
        for frame, seconds in zip(every, times, strict=True):
            done += 1
            if progress:
                progress(done, total)
            recording.set_time("frame", sequence=frame.index)
            recording.set_time("time", duration=seconds)
            if frame.deleted:
                if not previous_deleted:
                    recording.log(f"{prefix}events/cuts", rr.TextLog(f"frames from {frame.index} soft-deleted"))
                previous_deleted = True
                continue
            previous_deleted = False
            image = image_of(data_root, name, frame)
            media = "image/png" if image.suffix.lower() == ".png" else None
            recording.log(f"{prefix}camera", rr.EncodedImage(contents=image.read_bytes(), media_type=media))
            row = frame.row
            for entity, value in (("steering/x", row.x), ("steering/y", row.y), ("buttons/a", row.a)):
                recording.log(f"{prefix}{entity}", rr.Scalars(float(value)))
            recording.log(f"{prefix}buttons/b", rr.Scalars(float(row.b)))
            recording.log(f"{prefix}buttons/rb", rr.Scalars(float(row.rb)))
            if frame.index in takeovers:
                level = rr.TextLogLevel.WARN
                recording.log(
                    f"{prefix}events/interventions", rr.TextLog("intervention: human takes over", level=level)
                )
    recording.flush()
    recording.disconnect()
    temp.replace(out)
    return out
