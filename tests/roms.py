"""The homebrew test ROMs named by TENSORKART_TEST_ROM (never committed), for the tests that need one.

The variable holds one path or several separated by ':'. The emulator tests take the first (a ROM
that hands the RSP graphics tasks, e.g. jsdf/n64-sdk-demo's squaresdemo); the input-plugin ROM test
takes the one whose header title it needs (PeterLemon/N64's Input/CPU/InputCPU.N64, which keeps the
controller's reply at a known RDRAM address). Each skips with the reason when its ROM is not given.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROM_VARIABLE = "TENSORKART_TEST_ROM"
# The ROM header's 20-byte internal name (big-endian .z64 layout, the byte order both ROMs use).
_TITLE_OFFSET, _TITLE_LENGTH = 0x20, 20


def named_roms() -> list[Path]:
    """Every ROM the variable names, in order; a named path that is not a file fails the test."""
    paths = [Path(part).expanduser() for part in os.environ.get(ROM_VARIABLE, "").split(os.pathsep) if part]
    for path in paths:
        if not path.is_file():
            pytest.fail(f"{ROM_VARIABLE} names {path}, which is not a file")
    return paths


def rom_title(path: Path) -> str:
    with path.open("rb") as rom:
        rom.seek(_TITLE_OFFSET)
        return rom.read(_TITLE_LENGTH).decode("ascii", errors="replace").strip(" \0")


def first_test_rom(purpose: str) -> Path:
    """The first ROM named, or a skip saying what kind of ROM the test wants."""
    roms = named_roms()
    if not roms:
        pytest.skip(f"{ROM_VARIABLE} is not set: give the path of {purpose}")
    return roms[0]


def rom_titled(title: str, example: str) -> Path:
    """The named ROM whose header title is `title`, or a skip naming the ROM to give."""
    for path in named_roms():
        if rom_title(path) == title:
            return path
    pytest.skip(f"{ROM_VARIABLE} names no ROM titled {title!r} (e.g. {example}; never committed)")
