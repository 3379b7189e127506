"""The one rule for where the image named in a data.csv row lives, used by everything that reads
datasets (validation, the recorder's tools, replay, the trainer's scan and `tensorkart prepare`).

Forms accepted, tried in this order, all kept inside the data root:
- relative to the data root: `samples/<dataset>/img_<n>.png` (what the recorder writes, TensorKart's form);
- relative to the csv's folder: `img_<n>.png`;
- the workshop's `samples/<run>/img_<n>.png` whose run folder has another name here, Windows
  separators (`samples\\run\\img_3.png`), and absolute paths from other machines
  (`C:\\Users\\me\\tensorkart\\samples\\run\\img_3.png`, `/home/me/samples/run/img_3.png`):
  mapped by file name into the csv's folder.
An absolute path that exists inside the data root is used as it is.
"""

from __future__ import annotations

from pathlib import Path, PureWindowsPath


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def resolve_image(data_root: Path, csv_path: Path, image: str) -> Path:
    """Where the image named `image` in `csv_path` lives (the first form that exists inside the data
    root); when none does, the root-relative form (or, for a path that leaves the root or names a
    drive, the file name in the csv's folder), so the missing image is reported where it was looked for."""
    root = Path(data_root).resolve()
    normalised = image.replace("\\", "/")
    name = PureWindowsPath(image).name  # splits on both separators, drops a drive letter
    folder = Path(csv_path).parent
    candidates = [root / normalised, folder / normalised, folder / name]
    for candidate in candidates:
        if candidate.is_file() and _inside(candidate, root):
            return candidate
    first = candidates[0]
    return first if _inside(first, root) and ":" not in normalised else folder / name
