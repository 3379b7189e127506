"""ctypes declarations of the mupen64plus core's C API (m64p_types.h, m64p_frontend.h, m64p_config.h,
m64p_debugger.h as shipped by Debian's libmupen64plus-dev): enums, callback types and prototypes.

Only what the frontend calls is declared; values are the headers' own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
from pathlib import Path

DEFAULT_CORE_LIBRARY = "libmupen64plus.so.2"
# The frontend API version we speak (ui-console 2.5.9 passes the same).
FRONTEND_API_VERSION = 0x020001
CORE_PLUGIN_TYPE = 5


class M64Err(enum.IntEnum):
    SUCCESS = 0
    NOT_INIT = 1
    ALREADY_INIT = 2
    INCOMPATIBLE = 3
    INPUT_ASSERT = 4
    INPUT_INVALID = 5
    INPUT_NOT_FOUND = 6
    NO_MEMORY = 7
    FILES = 8
    INTERNAL = 9
    INVALID_STATE = 10
    PLUGIN_FAIL = 11
    SYSTEM_FAIL = 12
    UNSUPPORTED = 13
    WRONG_TYPE = 14


class PluginType(enum.IntEnum):
    RSP = 1
    GFX = 2
    AUDIO = 3
    INPUT = 4


class Command(enum.IntEnum):
    ROM_OPEN = 1
    ROM_CLOSE = 2
    ROM_GET_HEADER = 3
    EXECUTE = 5
    STOP = 6
    PAUSE = 7
    RESUME = 8
    CORE_STATE_QUERY = 9
    STATE_LOAD = 10
    STATE_SAVE = 11
    SET_FRAME_CALLBACK = 15
    CORE_STATE_SET = 17
    READ_SCREEN = 18
    RESET = 19
    ADVANCE_FRAME = 20


class CoreParam(enum.IntEnum):
    EMU_STATE = 1
    VIDEO_MODE = 2
    SAVESTATE_SLOT = 3
    SPEED_FACTOR = 4
    SPEED_LIMITER = 5
    VIDEO_SIZE = 6
    AUDIO_VOLUME = 7
    AUDIO_MUTE = 8
    INPUT_GAMESHARK = 9
    STATE_LOADCOMPLETE = 10
    STATE_SAVECOMPLETE = 11


class EmuState(enum.IntEnum):
    STOPPED = 1
    RUNNING = 2
    PAUSED = 3


class MsgLevel(enum.IntEnum):
    ERROR = 1
    WARNING = 2
    INFO = 3
    STATUS = 4
    VERBOSE = 5


class ParamType(enum.IntEnum):
    INT = 1
    FLOAT = 2
    BOOL = 3
    STRING = 4


class SavestateFormat(enum.IntEnum):
    M64P = 1
    PJ64_COMPRESSED = 2
    PJ64_UNCOMPRESSED = 3


DBG_PTR_RDRAM = 1
RDRAM_BYTES = 8 * 1024 * 1024  # the core always allocates the 8 MB of an Expansion Pak

DebugCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
StateCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
FrameCallback = ctypes.CFUNCTYPE(None, ctypes.c_uint)


def _prototype(lib: ctypes.CDLL, name: str, restype: object, *argtypes: object) -> None:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


def load_core_library(path: str | Path | None = None) -> ctypes.CDLL:
    """dlopen the core (Debian's libmupen64plus.so.2 unless `path` names another) and declare its API.

    RTLD_GLOBAL like ui-console, so plugins resolve the core's symbols. Raises OSError when the library
    cannot be loaded.
    """
    name = str(path) if path else (ctypes.util.find_library("mupen64plus") or DEFAULT_CORE_LIBRARY)
    lib = ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    err, ptr, c_int, c_char_p, c_void_p = ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p
    _prototype(lib, "CoreStartup", err, c_int, c_char_p, c_char_p, c_void_p, DebugCallback, c_void_p, StateCallback)
    _prototype(lib, "CoreShutdown", err)
    _prototype(lib, "CoreAttachPlugin", err, c_int, c_void_p)
    _prototype(lib, "CoreDetachPlugin", err, c_int)
    _prototype(lib, "CoreDoCommand", err, c_int, c_int, ptr)
    _prototype(lib, "CoreErrorMessage", c_char_p, c_int)
    _prototype(lib, "PluginGetVersion", err, *_version_args())
    _prototype(lib, "ConfigOpenSection", err, c_char_p, ctypes.POINTER(c_void_p))
    _prototype(lib, "ConfigSetParameter", err, c_void_p, c_char_p, c_int, c_void_p)
    _prototype(lib, "ConfigGetParameter", err, c_void_p, c_char_p, c_int, c_void_p, c_int)
    _prototype(lib, "ConfigGetParameterType", err, c_void_p, c_char_p, ctypes.POINTER(c_int))
    _prototype(lib, "ConfigSaveFile", err)
    _prototype(lib, "ConfigGetUserConfigPath", c_char_p)
    _prototype(lib, "DebugMemGetPointer", c_void_p, c_int)
    return lib


def _version_args() -> tuple[object, ...]:
    p = ctypes.POINTER
    return (p(ctypes.c_int), p(ctypes.c_int), p(ctypes.c_int), p(ctypes.c_char_p), p(ctypes.c_int))


def declare_plugin(lib: ctypes.CDLL) -> None:
    """Declare the entry points every mupen64plus plugin exports."""
    _prototype(lib, "PluginGetVersion", ctypes.c_int, *_version_args())
    _prototype(lib, "PluginStartup", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, DebugCallback)
    _prototype(lib, "PluginShutdown", ctypes.c_int)


def plugin_version(lib: ctypes.CDLL) -> tuple[int, int, int, str, int]:
    """(plugin type, plugin version, API version, name, capabilities) from PluginGetVersion."""
    ptype, version, api, caps = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    name = ctypes.c_char_p()
    status = lib.PluginGetVersion(
        ctypes.byref(ptype), ctypes.byref(version), ctypes.byref(api), ctypes.byref(name), ctypes.byref(caps)
    )
    if status != M64Err.SUCCESS:
        raise OSError(f"PluginGetVersion failed: {M64Err(status).name}")
    return ptype.value, version.value, api.value, (name.value or b"").decode(errors="replace"), caps.value
