"""Compatibility name for the dataset library's basics: everything here is `tensorkart_core.datasets`
(layout, rows, the path rule, validation). New code imports `tensorkart_core.datasets`."""

from tensorkart_core.datasets.layout import (
    CSV_NAME,
    IMAGE_PATTERN,
    NAME_PATTERN,
    SAMPLES_DIR,
    SESSION_NAME,
    DatasetNameError,
    dataset_dir,
    image_index,
    image_relpath,
    list_datasets,
    samples_root,
    validate_name,
)
from tensorkart_core.datasets.paths import resolve_image
from tensorkart_core.datasets.rows import Row, RowError, parse_row, read_rows, repair_tail
from tensorkart_core.datasets.validate import DatasetReport, validate_dataset

__all__ = [
    "CSV_NAME",
    "IMAGE_PATTERN",
    "NAME_PATTERN",
    "SAMPLES_DIR",
    "SESSION_NAME",
    "DatasetNameError",
    "DatasetReport",
    "Row",
    "RowError",
    "dataset_dir",
    "image_index",
    "image_relpath",
    "list_datasets",
    "parse_row",
    "read_rows",
    "repair_tail",
    "resolve_image",
    "samples_root",
    "validate_dataset",
    "validate_name",
]
