"""Game state from RDRAM: a per-game table of named addresses (games/<name>.json, each with its source)
read through the core's debug memory API (DebugMemGetPointer(M64P_DBG_PTR_RDRAM), which Debian's
core exports without a debugger build; DebugMemRead* need one).

The core keeps RDRAM as 32-bit words in host byte order, so an N64 (big-endian) byte address A lives
in word A >> 2 at bit offset 8 * (3 - (A & 3)).
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.m64p import RDRAM_BYTES

TYPES = {"u8": 1, "s8": 1, "u16": 2, "s16": 2, "u32": 4, "s32": 4, "f32": 4}


@dataclasses.dataclass(frozen=True)
class Address:
    name: str
    address: int  # physical RDRAM byte address
    type: str
    meaning: str
    source: str


@dataclasses.dataclass(frozen=True)
class GameTable:
    game: str
    rom_names: tuple[str, ...]
    frames_per_second: float
    addresses: dict[str, Address]


def physical(address: int) -> int:
    """KSEG0/KSEG1 (0x80000000 / 0xA0000000) or physical address -> physical RDRAM address."""
    return address & 0x1FFFFFFF


def load_game_table(name_or_path: str | Path) -> GameTable:
    """A built-in table by name (mk64, inputcpu) or a JSON file of the same shape."""
    path = Path(name_or_path)
    try:
        if path.suffix == ".json":
            text = path.read_text()
        else:
            text = resources.files("tensorkart_emulator.games").joinpath(f"{name_or_path}.json").read_text()
        raw = json.loads(text)
        addresses = {}
        for name, entry in raw["addresses"].items():
            kind = entry["type"]
            if kind not in TYPES:
                raise ValueError(f"{name}: type {kind!r} is not one of {sorted(TYPES)}")
            if not entry.get("source"):
                raise ValueError(f"{name}: every address needs its source")
            address = physical(int(entry["address"], 16))
            if address % TYPES[kind] or address + TYPES[kind] > RDRAM_BYTES:
                raise ValueError(f"{name}: {entry['address']} is misaligned or outside RDRAM for {kind}")
            addresses[name] = Address(name, address, kind, entry.get("meaning", ""), entry["source"])
        return GameTable(
            raw["game"], tuple(raw.get("rom_names", ())), float(raw.get("frames_per_second", 30)), addresses
        )
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as error:
        raise EmulatorError(ErrorKind.BAD_GAME_TABLE, f"game table {name_or_path}: {error}") from None


def read_value(rdram: Sequence[int], address: int, kind: str) -> int | float:
    """One value of `kind` at physical `address` from the core's RDRAM words."""
    word = rdram[address >> 2]
    if kind in ("u8", "s8"):
        value = (word >> (8 * (3 - (address & 3)))) & 0xFF
        return value - 0x100 if kind == "s8" and value & 0x80 else value
    if kind in ("u16", "s16"):
        value = (word >> (8 * (2 - (address & 2)))) & 0xFFFF
        return value - 0x10000 if kind == "s16" and value & 0x8000 else value
    if kind == "s32":
        return word - 0x100000000 if word & 0x80000000 else word
    if kind == "f32":
        return struct.unpack(">f", struct.pack(">I", word))[0]
    return word


def check_table_fits(table: GameTable, rom_name: str) -> None:
    """A table made for other games (by the ROM header's internal name) is refused, naming both."""
    if table.rom_names and rom_name not in table.rom_names:
        raise EmulatorError(
            ErrorKind.BAD_GAME_TABLE,
            f"game table for {table.game} ({', '.join(table.rom_names)}) "
            f"does not fit this ROM ({rom_name or 'no name'})",
        )


class RamReader:
    """Reads a game table's named values from a running core's RDRAM."""

    def __init__(self, rdram: Sequence[int], table: GameTable) -> None:
        self.rdram = rdram
        self.table = table

    def read(self, name: str) -> int | float:
        entry = self.table.addresses[name]
        return read_value(self.rdram, entry.address, entry.type)

    def snapshot(self) -> dict[str, int | float]:
        return {name: self.read(name) for name in self.table.addresses}
