"""mupen64plus plugins loaded by full path: dlopen, check type and API, PluginStartup against our core.

Always full paths (ui-console picks up any *.so in its working directory otherwise). Defaults are
Debian's plugins; the input plugin is ours (tensorkart-input) when built, else Debian's SDL one.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
from pathlib import Path

from tensorkart_emulator import m64p
from tensorkart_emulator.errors import EmulatorError, ErrorKind

log = logging.getLogger(__name__)
DEBIAN_PLUGIN_DIR = Path("/usr/lib/x86_64-linux-gnu/mupen64plus")
TENSORKART_INPUT = "mupen64plus-input-tensorkart.so"
# Our input plugin (issue 13): installed beside Debian's plugins (the n64 image), or built in this
# repository by `make plugin` (an editable install).
TENSORKART_INPUT_PATHS = (
    DEBIAN_PLUGIN_DIR / TENSORKART_INPUT,
    Path(__file__).resolve().parents[3] / "emulator" / "input-plugin" / "build" / TENSORKART_INPUT,
)
SDL_INPUT = DEBIAN_PLUGIN_DIR / "mupen64plus-input-sdl.so"


def default_input_plugin() -> Path:
    """tensorkart-input where it is installed or built, else Debian's SDL input plugin (a local gamepad)."""
    return next((path for path in TENSORKART_INPUT_PATHS if path.is_file()), SDL_INPUT)


DEFAULT_PLUGINS = {
    m64p.PluginType.GFX: DEBIAN_PLUGIN_DIR / "mupen64plus-video-rice.so",
    m64p.PluginType.AUDIO: DEBIAN_PLUGIN_DIR / "mupen64plus-audio-sdl.so",
    m64p.PluginType.INPUT: default_input_plugin(),
    m64p.PluginType.RSP: DEBIAN_PLUGIN_DIR / "mupen64plus-rsp-hle.so",
}
# The order ui-console attaches them in (the core requires the video plugin first).
ATTACH_ORDER = (m64p.PluginType.GFX, m64p.PluginType.AUDIO, m64p.PluginType.INPUT, m64p.PluginType.RSP)


@dataclasses.dataclass
class Plugin:
    kind: m64p.PluginType
    path: Path
    lib: ctypes.CDLL
    name: str
    version: int
    api_version: int
    started: bool = False

    @property
    def handle(self) -> int:
        return self.lib._handle

    def shutdown(self) -> None:
        if self.started:
            self.lib.PluginShutdown()
            self.started = False


def load_plugin(kind: m64p.PluginType, path: str | Path) -> Plugin:
    """dlopen the plugin at `path` and check it is a `kind` plugin (EmulatorError otherwise)."""
    plugin_path = Path(path)
    label = kind.name.lower()
    if not plugin_path.is_absolute():
        raise EmulatorError(ErrorKind.MISSING_PLUGIN, f"{label} plugin {plugin_path}: give a full path")
    if not plugin_path.is_file():
        raise EmulatorError(ErrorKind.MISSING_PLUGIN, f"{label} plugin {plugin_path}: no such file")
    try:
        lib = ctypes.CDLL(str(plugin_path))
        m64p.declare_plugin(lib)
    except (OSError, AttributeError) as error:
        raise EmulatorError(
            ErrorKind.BAD_PLUGIN, f"{label} plugin {plugin_path}: not a mupen64plus plugin ({error})"
        ) from None
    ptype, version, api, name, _caps = m64p.plugin_version(lib)
    if ptype != kind:
        found = m64p.PluginType(ptype).name.lower() if ptype in set(m64p.PluginType) else str(ptype)
        raise EmulatorError(ErrorKind.BAD_PLUGIN, f"{label} plugin {plugin_path}: it is a {found} plugin ({name})")
    return Plugin(kind, plugin_path, lib, name, version, api)


def start_plugin(plugin: Plugin, core_handle: int, debug_callback: ctypes._CFuncPtr) -> None:
    """PluginStartup(core handle, context, debug callback), as ui-console calls it."""
    context = ctypes.c_char_p(plugin.kind.name.encode())
    status = plugin.lib.PluginStartup(core_handle, context, debug_callback)
    if status != m64p.M64Err.SUCCESS:
        code = m64p.M64Err(status)
        raise EmulatorError(ErrorKind.BAD_PLUGIN, f"{plugin.path}: PluginStartup failed ({code.name})", code)
    plugin.started = True
    log.info(
        "%s plugin: %s %#x (API %#x) from %s",
        plugin.kind.name,
        plugin.name,
        plugin.version,
        plugin.api_version,
        plugin.path,
    )
