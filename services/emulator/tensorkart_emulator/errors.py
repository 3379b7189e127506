"""The frontend's typed errors: what went wrong is `kind` (an enum), the message names the file or call."""

from __future__ import annotations

import enum

from tensorkart_emulator.m64p import M64Err


class ErrorKind(enum.Enum):
    NO_ROM = "no_rom"
    UNREADABLE_ROM = "unreadable_rom"
    NOT_N64_ROM = "not_n64_rom"
    CORE_LIBRARY = "core_library"
    MISSING_PLUGIN = "missing_plugin"
    BAD_PLUGIN = "bad_plugin"
    BAD_SAVESTATE = "bad_savestate"
    CORE_CALL = "core_call"
    NO_FRAME = "no_frame"
    BAD_GAME_TABLE = "bad_game_table"


class EmulatorError(RuntimeError):
    """A failure of the emulator frontend; `kind` says which, `code` is the core's m64p_error if any."""

    def __init__(self, kind: ErrorKind, message: str, code: M64Err | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
