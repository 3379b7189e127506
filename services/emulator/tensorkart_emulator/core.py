"""The mupen64plus core library, started once per process: startup with a config directory, the
config API, plugin attachment, ROM open/close, and typed errors for every failing call.

The core is process-global C state: one `Core` per process. Its debug messages go to logging (and
the last errors are kept, so a failed call's exception carries what the core said); its state
changes (pause, savestate complete) wake threads waiting for them.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import threading
import time
from pathlib import Path

from tensorkart_emulator import m64p
from tensorkart_emulator.errors import EmulatorError, ErrorKind
from tensorkart_emulator.plugins import Plugin, start_plugin
from tensorkart_emulator.rom import RomImage

log = logging.getLogger("mupen64plus")
DEBIAN_DATA_DIR = Path("/usr/share/games/mupen64plus")
_LEVELS = {
    m64p.MsgLevel.ERROR: logging.ERROR,
    m64p.MsgLevel.WARNING: logging.WARNING,
    m64p.MsgLevel.INFO: logging.INFO,
    m64p.MsgLevel.STATUS: logging.INFO,
    m64p.MsgLevel.VERBOSE: logging.DEBUG,
}
ConfigValue = bool | int | float | str


class Core:
    """Debian's libmupen64plus.so.2 (or `library`), started with `config_dir` as its config directory."""

    def __init__(
        self, config_dir: str | Path, data_dir: str | Path | None = None, library: str | Path | None = None
    ) -> None:
        try:
            self.lib = m64p.load_core_library(library)
        except (OSError, AttributeError) as error:
            raise EmulatorError(ErrorKind.CORE_LIBRARY, f"cannot load the mupen64plus core library: {error}") from None
        self.errors: collections.deque[str] = collections.deque(maxlen=8)
        self._cond = threading.Condition()
        self._state_values: dict[m64p.CoreParam, tuple[int, int]] = {}  # param -> (value, change count)
        # ctypes callbacks must outlive the core's use of them.
        self.debug_callback = m64p.DebugCallback(self._on_debug)
        self._state_callback = m64p.StateCallback(self._on_state)
        config = Path(config_dir)
        config.mkdir(parents=True, exist_ok=True)
        data = Path(data_dir) if data_dir else DEBIAN_DATA_DIR
        status = self.lib.CoreStartup(
            m64p.FRONTEND_API_VERSION,
            str(config).encode(),
            str(data).encode(),
            None,
            self.debug_callback,
            None,
            self._state_callback,
        )
        self._check(status, "CoreStartup")
        self.config_dir = config
        self.attached: list[Plugin] = []
        self.rom_open = False

    # --- callbacks from the core (any thread) ---------------------------------------------------
    def _on_debug(self, _context: int, level: int, message: bytes) -> None:
        text = message.decode(errors="replace") if message else ""
        if level == m64p.MsgLevel.ERROR:
            self.errors.append(text)
        log.log(_LEVELS.get(level, logging.INFO), "%s", text)

    def _on_state(self, _context: int, param: int, value: int) -> None:
        try:
            key = m64p.CoreParam(param)
        except ValueError:
            return
        with self._cond:
            count = self._state_values.get(key, (0, 0))[1]
            self._state_values[key] = (value, count + 1)
            self._cond.notify_all()

    def state_mark(self, param: m64p.CoreParam) -> int:
        """How many times `param` has changed so far (pass to wait_state)."""
        with self._cond:
            return self._state_values.get(param, (0, 0))[1]

    def wait_state(self, param: m64p.CoreParam, after: int, timeout: float) -> int | None:
        """The value of `param`'s next change after mark `after`, or None on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._state_values.get(param, (0, 0))[1] <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._state_values[param][0]

    # --- calls -------------------------------------------------------------------------------------
    def _check(self, status: int, what: str, kind: ErrorKind = ErrorKind.CORE_CALL) -> None:
        if status == m64p.M64Err.SUCCESS:
            return
        code = m64p.M64Err(status)
        detail = self.lib.CoreErrorMessage(status).decode(errors="replace")
        said = f"; the core said: {self.errors[-1]}" if self.errors else ""
        raise EmulatorError(kind, f"{what} failed: {code.name} ({detail}){said}", code)

    def command(self, command: m64p.Command, param_int: int = 0, param_ptr: object = None) -> None:
        self._check(self.lib.CoreDoCommand(command, param_int, param_ptr), f"CoreDoCommand({command.name})")

    def query(self, param: m64p.CoreParam) -> int:
        value = ctypes.c_int()
        self.command(m64p.Command.CORE_STATE_QUERY, param, ctypes.byref(value))
        return value.value

    def set_state(self, param: m64p.CoreParam, value: int) -> None:
        self.command(m64p.Command.CORE_STATE_SET, param, ctypes.byref(ctypes.c_int(value)))

    # --- configuration -------------------------------------------------------------------------
    def _section(self, section: str) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        self._check(self.lib.ConfigOpenSection(section.encode(), ctypes.byref(handle)), f"ConfigOpenSection({section})")
        return handle

    def set_config(self, section: str, name: str, value: ConfigValue) -> None:
        """Set `section[name]`; the C type follows the Python type (bool, int, float, str)."""
        handle = self._section(section)
        if isinstance(value, bool):
            ptype, cvalue = m64p.ParamType.BOOL, ctypes.c_int(int(value))
        elif isinstance(value, int):
            ptype, cvalue = m64p.ParamType.INT, ctypes.c_int(value)
        elif isinstance(value, float):
            ptype, cvalue = m64p.ParamType.FLOAT, ctypes.c_float(value)
        elif isinstance(value, str):
            ptype, cvalue = m64p.ParamType.STRING, ctypes.create_string_buffer(value.encode())
        else:
            raise TypeError(f"config {section}[{name}]: unsupported value {value!r}")
        status = self.lib.ConfigSetParameter(handle, name.encode(), ptype, ctypes.byref(cvalue))
        self._check(status, f"ConfigSetParameter({section}[{name}])")

    def get_config(self, section: str, name: str) -> ConfigValue:
        handle = self._section(section)
        ptype = ctypes.c_int()
        status = self.lib.ConfigGetParameterType(handle, name.encode(), ctypes.byref(ptype))
        self._check(status, f"ConfigGetParameterType({section}[{name}])")
        kind = m64p.ParamType(ptype.value)
        if kind == m64p.ParamType.STRING:
            buffer = ctypes.create_string_buffer(4096)
            self._check(self.lib.ConfigGetParameter(handle, name.encode(), kind, buffer, 4096), "ConfigGetParameter")
            return buffer.value.decode()
        cvalue = ctypes.c_float() if kind == m64p.ParamType.FLOAT else ctypes.c_int()
        status = self.lib.ConfigGetParameter(handle, name.encode(), kind, ctypes.byref(cvalue), ctypes.sizeof(cvalue))
        self._check(status, f"ConfigGetParameter({section}[{name}])")
        if kind == m64p.ParamType.BOOL:
            return bool(cvalue.value)
        return cvalue.value

    def save_config(self) -> None:
        self._check(self.lib.ConfigSaveFile(), "ConfigSaveFile")

    # --- plugins and ROM ----------------------------------------------------------------------
    def start_plugin(self, plugin: Plugin) -> None:
        start_plugin(plugin, self.lib._handle, self.debug_callback)

    def attach(self, plugin: Plugin) -> None:
        status = self.lib.CoreAttachPlugin(plugin.kind, plugin.handle)
        self._check(status, f"attaching {plugin.kind.name.lower()} plugin {plugin.path}", ErrorKind.BAD_PLUGIN)
        self.attached.append(plugin)

    def detach_all(self) -> None:
        for plugin in reversed(self.attached):
            self.lib.CoreDetachPlugin(plugin.kind)
        self.attached.clear()

    def open_rom(self, rom: RomImage) -> None:
        buffer = ctypes.create_string_buffer(rom.data, len(rom.data))
        status = self.lib.CoreDoCommand(m64p.Command.ROM_OPEN, len(rom.data), buffer)
        self._check(status, f"opening ROM {rom.path}", ErrorKind.NOT_N64_ROM)
        self.rom_open = True

    def close_rom(self) -> None:
        if self.rom_open:
            self.lib.CoreDoCommand(m64p.Command.ROM_CLOSE, 0, None)
            self.rom_open = False

    def rdram(self) -> ctypes.Array:
        """The emulated RDRAM (8 MiB of 32-bit words in host byte order), valid while a ROM runs."""
        address = self.lib.DebugMemGetPointer(m64p.DBG_PTR_RDRAM)
        if not address:
            raise EmulatorError(ErrorKind.CORE_CALL, "DebugMemGetPointer(RDRAM) returned NULL (no ROM running?)")
        return (ctypes.c_uint32 * (m64p.RDRAM_BYTES // 4)).from_address(address)

    def shutdown(self) -> None:
        self.close_rom()
        self.detach_all()
        self.lib.CoreShutdown()
