"""Datasets out to other tools and back: an MP4 with the steering drawn (`movie`), the LeRobot v3
layout (`lerobot`, export and import) and a Rerun recording (`rerun_rrd`).

They need the optional extra `tensorkart-core[export]` (PyAV, pyarrow, rerun-sdk); each module
imports its library when called, so importing tensorkart_core.datasets never needs them.
"""

from tensorkart_core.datasets.export.episodes import Episode, ExportError, episodes_of

__all__ = ["Episode", "ExportError", "episodes_of"]
