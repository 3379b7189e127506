"""Reading a ROM file and checking it is an N64 cartridge image before the core sees it.

An N64 image starts with the PI BSD domain 1 configuration word 0x80371240, stored in one of three
byte orders: .z64 (big-endian, native), .v64 (16-bit byte-swapped) and .n64 (32-bit little-endian).
The core accepts all three; anything else is refused here with a message naming the file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tensorkart_emulator.errors import EmulatorError, ErrorKind

MAGIC = {
    bytes.fromhex("80371240"): "z64",
    bytes.fromhex("37804012"): "v64",
    bytes.fromhex("40123780"): "n64",
}
HEADER_BYTES = 0x40
MAX_ROM_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class RomImage:
    path: Path
    data: bytes
    byte_order: str

    @property
    def name(self) -> str:
        """The internal name in the header (bytes 0x20-0x33), in native byte order."""
        raw = to_big_endian(self.data[:HEADER_BYTES], self.byte_order)[0x20:0x34]
        return raw.decode("ascii", errors="replace").strip(" \x00")


def to_big_endian(data: bytes, byte_order: str) -> bytes:
    """`data` (a multiple of 4 bytes) in the cartridge's native big-endian order."""
    if byte_order == "v64":
        swapped = bytearray(data)
        swapped[0::2], swapped[1::2] = data[1::2], data[0::2]
        return bytes(swapped)
    if byte_order == "n64":
        swapped = bytearray(data)
        for i in range(4):
            swapped[i::4] = data[3 - i :: 4]
        return bytes(swapped)
    return data


def read_rom(path: str | Path | None) -> RomImage:
    """The ROM at `path`, or an EmulatorError saying why it cannot be one."""
    if path is None or str(path) == "":
        raise EmulatorError(ErrorKind.NO_ROM, "no ROM given: pass the path of an N64 ROM (.z64, .v64 or .n64)")
    rom_path = Path(path).expanduser()
    if not rom_path.exists():
        raise EmulatorError(ErrorKind.NO_ROM, f"ROM {rom_path}: no such file")
    if not rom_path.is_file():
        raise EmulatorError(ErrorKind.UNREADABLE_ROM, f"ROM {rom_path}: not a regular file")
    try:
        size = rom_path.stat().st_size
        if size > MAX_ROM_BYTES:
            raise EmulatorError(
                ErrorKind.NOT_N64_ROM, f"ROM {rom_path}: {size} bytes, larger than any N64 cartridge (64 MiB)"
            )
        data = rom_path.read_bytes()
    except OSError as error:
        raise EmulatorError(ErrorKind.UNREADABLE_ROM, f"ROM {rom_path}: cannot read it ({error.strerror})") from None
    if len(data) < HEADER_BYTES * 64:
        raise EmulatorError(
            ErrorKind.NOT_N64_ROM, f"ROM {rom_path}: {len(data)} bytes, too short for an N64 image (header + boot code)"
        )
    byte_order = MAGIC.get(data[:4])
    if byte_order is None:
        raise EmulatorError(
            ErrorKind.NOT_N64_ROM,
            f"ROM {rom_path}: not an N64 image (starts with {data[:4].hex()}, "
            "expected 80371240 in z64, v64 or n64 byte order)",
        )
    return RomImage(rom_path, data, byte_order)
