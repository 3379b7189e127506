"""`python -m tensorkart_emulator check-plugins`: do the configured plugins attach to this core?

Loads the core and the video, RSP and input plugins the settings name, starts them, opens a blank
cartridge image (the N64 signature and zeros: no game needed, nothing runs) and attaches every plugin
the way a run does, so an API mismatch between a plugin and the core (e.g. tensorkart-input on
Debian's 2.5.9 core) or a missing plugin shows as the same typed error a run would end with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tensorkart_emulator import m64p
from tensorkart_emulator.core import Core
from tensorkart_emulator.frontend import FrontendOptions
from tensorkart_emulator.plugins import ATTACH_ORDER, Plugin, load_plugin
from tensorkart_emulator.rom import MAGIC, RomImage

BLANK_CARTRIDGE_BYTES = 1024 * 1024


def blank_cartridge() -> RomImage:
    """A 1 MiB big-endian image with the N64 signature and nothing else: enough for ROM_OPEN."""
    signature = next(magic for magic, order in MAGIC.items() if order == "z64")
    data = signature + bytes(BLANK_CARTRIDGE_BYTES - len(signature))
    return RomImage(Path("blank cartridge"), data, "z64")


def describe(plugin: Plugin) -> dict[str, Any]:
    return {
        "name": plugin.name,
        "path": str(plugin.path),
        "version": f"{plugin.version:#x}",
        "api": f"{plugin.api_version:#x}",
    }


def check_plugins(options: FrontendOptions) -> dict[str, Any]:
    """Attach every configured plugin to the core; what attached, or an EmulatorError naming what did not."""
    loaded = [load_plugin(kind, path) for kind, path in options.plugins.items() if path is not None]
    core = Core(options.config_dir, library=options.core_library)
    try:
        for section, values in options.config.items():
            for name, value in values.items():
                core.set_config(section, name, value)
        _ptype, version, api, name, _caps = m64p.plugin_version(core.lib)
        for plugin in loaded:
            core.start_plugin(plugin)
        core.open_rom(blank_cartridge())
        by_kind = {plugin.kind: plugin for plugin in loaded}
        for kind in ATTACH_ORDER:
            if kind in by_kind:
                core.attach(by_kind[kind])
        return {
            "core": {"name": name, "version": f"{version:#x}", "api": f"{api:#x}"},
            "plugins": {plugin.kind.name.lower(): describe(plugin) for plugin in loaded},
        }
    finally:
        core.shutdown()
        for plugin in loaded:
            plugin.shutdown()
