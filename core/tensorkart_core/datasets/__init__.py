"""The one dataset library: layout and names, data.csv rows, the image-path rule, validation,
scanning for training, session metadata, statistics, contact sheets, atomic writes, the tools
that derive datasets, soft-delete curation and the timeline.

Used by the recorder, the trainer (training pipeline and REST API), capture's replay and the
CLI. No TensorFlow here (capture, recorder and controller import it). Exports to LeRobot and
Rerun and the MP4 movie live in `tensorkart_core.datasets.export` (optional extra `export`).
"""

from tensorkart_core.datasets.atomic import write_atomically, write_bytes, write_text
from tensorkart_core.datasets.curation import (
    CurationError,
    CurationSummary,
    Frame,
    curation_summary,
    delete_range,
    frames,
    restore_range,
    stamp,
)
from tensorkart_core.datasets.layout import (
    CSV_NAME,
    DELETED_NAME,
    SAMPLES_DIR,
    SESSION_NAME,
    DatasetNameError,
    DatasetNotFound,
    dataset_dir,
    image_index,
    image_relpath,
    list_datasets,
    require_dataset,
    resolve_names,
    samples_root,
    validate_name,
    validate_pattern,
)
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.rows import Row, RowError, parse_row, read_rows, repair_tail, rows_text
from tensorkart_core.datasets.scan import DatasetScan, Sample, content_hash, scan, session_rows
from tensorkart_core.datasets.session import duration, frame_rate, frame_times, load_session
from tensorkart_core.datasets.sheet import contact_sheet, draw_steering
from tensorkart_core.datasets.stats import describe, sparkline, steering_histogram, summary
from tensorkart_core.datasets.timeline import frame_image, timeline
from tensorkart_core.datasets.tools import DatasetToolError, flip_dataset, import_folder, trim_dataset, write_dataset
from tensorkart_core.datasets.validate import DatasetReport, looks_like_png, validate_dataset

__all__ = [
    "CSV_NAME",
    "DELETED_NAME",
    "SAMPLES_DIR",
    "SESSION_NAME",
    "CurationError",
    "CurationSummary",
    "DatasetNameError",
    "DatasetNotFound",
    "DatasetReport",
    "DatasetScan",
    "DatasetToolError",
    "Frame",
    "Row",
    "RowError",
    "Sample",
    "contact_sheet",
    "content_hash",
    "curation_summary",
    "dataset_dir",
    "delete_range",
    "describe",
    "draw_steering",
    "duration",
    "flip_dataset",
    "frame_image",
    "frame_rate",
    "frame_times",
    "frames",
    "image_index",
    "image_relpath",
    "import_folder",
    "list_datasets",
    "load_session",
    "looks_like_png",
    "parse_row",
    "read_rows",
    "repair_tail",
    "require_dataset",
    "resolve_image",
    "resolve_names",
    "restore_range",
    "rows_text",
    "samples_root",
    "scan",
    "session_rows",
    "sparkline",
    "stamp",
    "steering_histogram",
    "summary",
    "timeline",
    "trim_dataset",
    "validate_dataset",
    "validate_name",
    "validate_pattern",
    "write_atomically",
    "write_bytes",
    "write_dataset",
    "write_text",
]
