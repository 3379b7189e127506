"""What a killed recorder leaves behind is repaired when the dataset is opened again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from tensorkart_core.dataset import read_rows, validate_dataset
from tensorkart_recorder.writer import DatasetWriter
from tests.recorder.support import make_dataset, picture


def test_reopening_cuts_a_partial_row_removes_temp_files_and_skips_orphans(data_root):
    make_dataset(data_root, "crashed", 3)
    folder = data_root / "samples" / "crashed"
    with open(folder / "data.csv", "a") as csv:
        csv.write("samples/crashed/img_3.png,0.25,0")  # the row being written when the process died
    (folder / ".img_4.png.tmp").write_bytes(b"\x89PNG half")  # an image being encoded
    Image.fromarray(picture(5, 64, 48)).save(folder / "img_5.png")  # renamed, but its row never written
    assert not validate_dataset(data_root, "crashed").valid

    done: list[str | None] = []

    with ThreadPoolExecutor(2) as pool:
        writer = DatasetWriter(folder, "crashed", pool)
        assert writer.existing_rows == 3
        writer.submit(picture(9, 64, 48), -0.5, 0.0, 1, 0, 1, done.append)
        writer.close()
    assert done == [None]
    rows, problems = read_rows(folder / "data.csv", strict=False)
    assert not problems
    assert [r.image for r in rows] == [f"samples/crashed/img_{i}.png" for i in (0, 1, 2, 6)]
    assert (rows[-1].x, rows[-1].a, rows[-1].rb) == (-0.5, 1, 1)
    assert np.array_equal(np.asarray(Image.open(folder / "img_6.png")), picture(9, 64, 48))
    assert not list(folder.glob(".*.tmp"))
    assert validate_dataset(data_root, "crashed").valid
