"""ctypes bindings to Debian's mupen64plus core library and an input plugin, making the calls
the emulator makes: CoreStartup, config through the core's config API, the plugin's
PluginStartup with the core's handle, CoreAttachPlugin (the core's own API-version check,
which calls InitiateControllers), RomOpen, GetKeys per poll, RomClosed, PluginShutdown.

Standalone (stdlib only): the poller child process and the benchmark load it by path.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from dataclasses import dataclass

CORE_LIBRARY = os.environ.get("TENSORKART_M64P_CORE", "libmupen64plus.so.2")
DATA_DIR = "/usr/share/games/mupen64plus"
CORE_API_VERSION = 0x020001
M64PLUGIN_INPUT = 4
M64TYPE_INT, M64TYPE_FLOAT, M64TYPE_BOOL, M64TYPE_STRING = 1, 2, 3, 4
M64CMD_ROM_OPEN, M64CMD_ROM_CLOSE = 1, 2
M64ERR_SUCCESS = 0
# m64p_plugin.h's BUTTONS union, in bit order (GCC/Clang lay bit-fields out from bit 0).
BUTTON_BITS = (
    "R_DPAD",
    "L_DPAD",
    "D_DPAD",
    "U_DPAD",
    "START_BUTTON",
    "Z_TRIG",
    "B_BUTTON",
    "A_BUTTON",
    "R_CBUTTON",
    "L_CBUTTON",
    "D_CBUTTON",
    "U_CBUTTON",
    "R_TRIG",
    "L_TRIG",
)

DebugCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
StateCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)


class Control(ctypes.Structure):
    _fields_ = [("Present", ctypes.c_int), ("RawData", ctypes.c_int), ("Plugin", ctypes.c_int), ("Type", ctypes.c_int)]


class ControlInfo(ctypes.Structure):
    _fields_ = [("Controls", ctypes.POINTER(Control))]


@dataclass(frozen=True)
class Pad:
    """One GetKeys result, decoded from the BUTTONS union."""

    value: int
    buttons: tuple[str, ...]
    x_axis: int
    y_axis: int

    @classmethod
    def decode(cls, value: int) -> Pad:
        buttons = tuple(name for bit, name in enumerate(BUTTON_BITS) if value >> bit & 1)
        return cls(value, buttons, ctypes.c_int8((value >> 16) & 0xFF).value, ctypes.c_int8((value >> 24) & 0xFF).value)


class M64Error(RuntimeError):
    """A core or plugin call returned an m64p_error other than M64ERR_SUCCESS."""


def synthetic_image(size: int = 1 << 20) -> bytes:
    """Bytes the core's ROM_OPEN accepts (a .z64 signature, zeros after): lets CoreAttachPlugin
    run its plugin checks without any game. Never executed."""
    return b"\x80\x37\x12\x40" + bytes(size - 4)


class Core:
    """Debian's libmupen64plus.so.2, started with a private config directory."""

    def __init__(self, config_dir: str, log: Callable[[str, int, str], None]) -> None:
        self.lib = ctypes.CDLL(CORE_LIBRARY, mode=ctypes.RTLD_GLOBAL)
        self._debug = DebugCallback(lambda _ctx, level, message: log("core", level, message.decode(errors="replace")))
        self.lib.CoreErrorMessage.restype = ctypes.c_char_p
        self._check(
            self.lib.CoreStartup(
                CORE_API_VERSION,
                config_dir.encode(),
                DATA_DIR.encode(),
                None,
                self._debug,
                None,
                ctypes.cast(None, StateCallback),
            ),
            "CoreStartup",
        )
        self.rom_open = False

    @property
    def handle(self) -> int:
        return self.lib._handle

    def _check(self, code: int, what: str) -> None:
        if code != M64ERR_SUCCESS:
            detail = (self.lib.CoreErrorMessage(code) or b"").decode()
            raise M64Error(f"{what} failed: error {code} ({detail})")

    def set_config(self, section: str, key: str, value: int | str, as_string: bool = False) -> None:
        """ConfigOpenSection + ConfigSetParameter, as a frontend's --set does."""
        handle = ctypes.c_void_p()
        self._check(self.lib.ConfigOpenSection(section.encode(), ctypes.byref(handle)), f"ConfigOpenSection {section}")
        if isinstance(value, int) and not as_string:
            number = ctypes.c_int(value)
            code = self.lib.ConfigSetParameter(handle, key.encode(), M64TYPE_INT, ctypes.byref(number))
        else:
            text = ctypes.create_string_buffer(str(value).encode())
            code = self.lib.ConfigSetParameter(handle, key.encode(), M64TYPE_STRING, text)
        self._check(code, f"ConfigSetParameter {section}[{key}]")

    def open_image(self, image: bytes) -> None:
        buffer = ctypes.create_string_buffer(image, len(image))
        self._check(self.lib.CoreDoCommand(M64CMD_ROM_OPEN, len(image), buffer), "ROM_OPEN")
        self.rom_open = True

    def attach_input(self, plugin: InputPlugin) -> None:
        """The core's own attach: API-version check, then InitiateControllers."""
        self._check(self.lib.CoreAttachPlugin(M64PLUGIN_INPUT, ctypes.c_void_p(plugin.handle)), "CoreAttachPlugin")

    def detach_input(self) -> None:
        self.lib.CoreDetachPlugin(M64PLUGIN_INPUT)

    def shutdown(self) -> None:
        if self.rom_open:
            self.lib.CoreDoCommand(M64CMD_ROM_CLOSE, 0, None)
            self.rom_open = False
        self.lib.CoreShutdown()


class InputPlugin:
    """An input plugin library, driven as the core drives it."""

    def __init__(self, path: str, log: Callable[[str, int, str], None]) -> None:
        self.lib = ctypes.CDLL(path)
        self._debug = DebugCallback(lambda _ctx, level, message: log("plugin", level, message.decode(errors="replace")))
        self.lib.GetKeys.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint32)]
        self.lib.GetKeys.restype = None
        self.lib.InitiateControllers.argtypes = [ControlInfo]
        self.lib.InitiateControllers.restype = None
        self._controls = (Control * 4)()

    @property
    def handle(self) -> int:
        return self.lib._handle

    def version(self) -> tuple[int, int, int, str]:
        """(plugin type, plugin version, API version, name) from PluginGetVersion."""
        kind, version, api = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        name = ctypes.c_char_p()
        self.lib.PluginGetVersion(
            ctypes.byref(kind), ctypes.byref(version), ctypes.byref(api), ctypes.byref(name), None
        )
        return kind.value, version.value, api.value, (name.value or b"").decode()

    def startup(self, core: Core) -> None:
        code = self.lib.PluginStartup(ctypes.c_void_p(core.handle), None, self._debug)
        if code != M64ERR_SUCCESS:
            raise M64Error(f"PluginStartup failed: error {code}")

    def initiate_controllers(self) -> list[int]:
        """InitiateControllers with a CONTROL[4] of our own (when no core attach is possible);
        returns each controller's Present flag."""
        self.lib.InitiateControllers(ControlInfo(self._controls))
        return [control.Present for control in self._controls]

    def get_keys(self, controller: int) -> Pad:
        value = ctypes.c_uint32(0)
        self.lib.GetKeys(controller, ctypes.byref(value))
        return Pad.decode(value.value)

    def rom_open(self) -> int:
        return self.lib.RomOpen()

    def rom_closed(self) -> None:
        self.lib.RomClosed()

    def shutdown(self) -> int:
        return self.lib.PluginShutdown()
