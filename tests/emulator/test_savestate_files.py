"""Savestate files are checked before the core is asked to load them (no ROM needed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.savestate import check_savestate


def _kind(path: Path) -> ErrorKind:
    with pytest.raises(EmulatorError) as caught:
        check_savestate(path)
    assert str(path) in str(caught.value)
    return caught.value.kind


def test_bad_savestates_are_refused_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other_gzip = tmp_path / "other.gz"
    other_gzip.write_bytes(gzip.compress(b"something else entirely"))
    broken_gzip = tmp_path / "broken.st"
    broken_gzip.write_bytes(gzip.compress(b"M64+SAVE" + b"\0" * 100)[:12])
    empty = tmp_path / "empty.st"
    empty.write_bytes(b"")
    for path in (tmp_path / "missing.st", tmp_path, text, other_gzip, broken_gzip, empty):
        assert _kind(path) == ErrorKind.BAD_SAVESTATE


def test_a_mupen64plus_savestate_passes(tmp_path: Path) -> None:
    good = tmp_path / "good.st"
    good.write_bytes(gzip.compress(b"M64+SAVE\x00\x01\x08\x00" + b"\0" * 64))
    assert check_savestate(good) == good
