"""Checking a savestate file before the core is asked to load it.

The core loads savestates asynchronously and only says yes or no; a file that is missing,
unreadable or not a savestate at all is refused here with a message naming it. Formats the core
reads: its own (gzip holding the "M64+SAVE" magic) and Project64's (zip, or raw with its magic).
"""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path

from tensorkart_emulator.errors import EmulatorError, ErrorKind

M64P_MAGIC = b"M64+SAVE"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PJ64_MAGIC = bytes.fromhex("c8a6d823")


def check_savestate(path: str | Path) -> Path:
    """`path` if it holds a savestate the core can read, else an EmulatorError (BAD_SAVESTATE)."""
    source = Path(path).expanduser()
    if not source.exists():
        raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: no such file")
    if not source.is_file():
        raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: not a regular file")
    try:
        with source.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: cannot read it ({error.strerror})") from None
    if head.startswith(GZIP_MAGIC):
        try:
            with gzip.open(source, "rb") as handle:
                inner = handle.read(len(M64P_MAGIC))
        except (OSError, EOFError, zlib.error) as error:
            raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: broken gzip data ({error})") from None
        if inner != M64P_MAGIC:
            raise EmulatorError(ErrorKind.BAD_SAVESTATE, f"savestate {source}: gzip file without the M64+SAVE magic")
        return source
    if head.startswith(ZIP_MAGIC) or head.startswith(PJ64_MAGIC):
        return source
    raise EmulatorError(
        ErrorKind.BAD_SAVESTATE,
        f"savestate {source}: not a mupen64plus or Project64 savestate (starts with {head[:8].hex() or 'nothing'})",
    )


def wait_written(path: Path, timeout: float) -> bool:
    """Wait until `path` holds a complete mupen64plus savestate (the core writes it on a worker thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with gzip.open(path, "rb") as handle:
                if handle.read(len(M64P_MAGIC)) == M64P_MAGIC:
                    while handle.read(1 << 20):
                        pass
                    return True
        except (OSError, EOFError, zlib.error):
            pass
        time.sleep(0.02)
    return False
