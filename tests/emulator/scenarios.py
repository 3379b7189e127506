"""Emulator scenarios, each run in a child process by the tests (`python -m tests.emulator.scenarios NAME ARGS_JSON`).

The core is process-global C state that may crash: a child process per scenario makes a crash one
failed test instead of a dead test runner. Each scenario prints one JSON object as its last line.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from tensorkart_emulator import m64p
from tensorkart_emulator.core import Core
from tensorkart_emulator.errors import EmulatorError
from tensorkart_emulator.frontend import Frontend, FrontendOptions
from tensorkart_emulator.plugins import DEBIAN_PLUGIN_DIR, DEFAULT_PLUGINS, load_plugin
from tensorkart_emulator.rom import RomImage, read_rom

DEBIAN_PLUGINS = {
    "mupen64plus-video-rice.so": m64p.PluginType.GFX,
    "mupen64plus-video-z64.so": m64p.PluginType.GFX,
    "mupen64plus-video-glide64mk2.so": m64p.PluginType.GFX,
    "mupen64plus-rsp-hle.so": m64p.PluginType.RSP,
    "mupen64plus-rsp-z64.so": m64p.PluginType.RSP,
    "mupen64plus-input-sdl.so": m64p.PluginType.INPUT,
    "mupen64plus-audio-sdl.so": m64p.PluginType.AUDIO,
}


def _error(call) -> dict:
    try:
        call()
    except EmulatorError as error:
        return {"kind": error.kind.value, "message": str(error), "code": error.code.name if error.code else None}
    return {"kind": None, "message": "no error"}


def plugins(args: dict) -> dict:
    core = Core(args["config_dir"])
    loaded = {}
    for name, kind in DEBIAN_PLUGINS.items():
        plugin = load_plugin(kind, DEBIAN_PLUGIN_DIR / name)
        core.start_plugin(plugin)
        loaded[name] = {"type": plugin.kind.name, "name": plugin.name, "api": plugin.api_version}
        plugin.shutdown()
    core.shutdown()
    return {"plugins": loaded}


def config(args: dict) -> dict:
    core = Core(args["config_dir"])
    core.set_config("Core", "OnScreenDisplay", False)
    core.set_config("Core", "SaveStatePath", "/tmp/states/")
    core.set_config("Video-General", "ScreenWidth", 320)
    core.set_config("TensorKart-Test", "Ratio", 0.25)
    values = {
        "osd": core.get_config("Core", "OnScreenDisplay"),
        "path": core.get_config("Core", "SaveStatePath"),
        "width": core.get_config("Video-General", "ScreenWidth"),
        "ratio": core.get_config("TensorKart-Test", "Ratio"),
        "missing": _error(lambda: core.get_config("Core", "NoSuchParameter")),
    }
    core.save_config()
    core.shutdown()
    return values


def rom_errors(args: dict) -> dict:
    """Our checks, then the core's own refusal of a file our check would have stopped."""
    core = Core(args["config_dir"])
    results = {name: _error(lambda path=path: read_rom(path)) for name, path in args["cases"].items()}
    junk = Path(args["cases"]["not_n64"]).read_bytes()
    results["core_refuses"] = _error(lambda: core.open_rom(RomImage(Path("junk.z64"), junk, "z64")))
    core.shutdown()
    return results


def plugin_errors(args: dict) -> dict:
    return {
        name: _error(lambda kind=kind, path=path: load_plugin(m64p.PluginType[kind], path))
        for name, (kind, path) in args["cases"].items()
    }


def start_errors(args: dict) -> dict:
    """Frontend.start() with a bad ROM or plugin: the error comes before the core runs anything."""
    out = {}
    for name, case in args["cases"].items():
        options = FrontendOptions(rom=case["rom"] and Path(case["rom"]), config_dir=Path(args["config_dir"]))
        if case.get("video"):
            options.plugins[m64p.PluginType.GFX] = Path(case["video"])
        out[name] = _error(lambda options=options: Frontend(options).start())
    return out


def _frontend(args: dict, **extra) -> Frontend:
    options = FrontendOptions(rom=Path(args["rom"]), config_dir=Path(args["config_dir"]), **extra)
    return Frontend(options)


def lockstep(args: dict) -> dict:
    frontend = _frontend(args)
    try:
        first = frontend.start()
        frames = [first] + [frontend.advance() for _ in range(args["frames"])]
        return {
            "indices": [frame.index for frame in frames],
            "blank": [frame.blank for frame in frames],
            "shape": list(first.rgb.shape),
            "distinct": len({frame.digest for frame in frames}),
            "mean": [float(frame.rgb.mean()) for frame in frames],
            "callbacks": frontend.reader.count,
            "gaps": frontend.reader.gaps,
        }
    finally:
        frontend.stop()


def replay(args: dict) -> dict:
    """Save a state, then three times: load it and advance N frames; the frames' digests and RDRAM's."""
    frontend = _frontend(args)
    try:
        frontend.start()
        for _ in range(args["warmup"]):
            frontend.advance()
        state = frontend.save_state(Path(args["config_dir"]) / "replay.st")
        runs = []
        for _ in range(3):
            frontend.load_state(state)
            digests = [frontend.advance().digest.hex() for _ in range(args["frames"])]
            runs.append({"digests": digests, "ram": _ram_digest(frontend)})
        bad = Path(args["config_dir"]) / "bad.st"
        bad.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
        return {"runs": runs, "bad": _error(lambda: frontend.load_state(bad)), "alive": frontend.advance().index}
    finally:
        frontend.stop()


def _ram_digest(frontend: Frontend) -> str:
    return hashlib.blake2b(bytes(frontend.core.rdram()), digest_size=16).hexdigest()


def free_run(args: dict) -> dict:
    frames = []
    frontend = _frontend(args, lockstep=False)
    frontend.on_frame = lambda frame: frames.append(frame.index)
    try:
        frontend.start()
        time.sleep(args["seconds"])
        return {"indices": list(frames), "duplicates": frontend.reader.duplicates}
    finally:
        frontend.stop()


def gym_episodes(args: dict) -> dict:
    """Three episodes of the emulator's Gymnasium env: frame numbers, picture digests, controller states."""
    import numpy as np

    from tensorkart_emulator.gym_env import EmulatorEnv

    env = EmulatorEnv(
        args["rom"], args["controller"], frame_skip=2, config_dir=args["config_dir"], pad_server=args["pad_server"]
    )
    episodes = []
    try:
        for _ in range(3):
            _, info = env.reset()
            frames, digests, sticks = [info["frame"]], [], []
            for step in range(8):
                x = -1.0 + step / 4
                _, _, _, _, info = env.step(np.array([x, 0, 1, 0, 0], dtype=np.float32))
                frames.append(info["frame"])
                digests.append(hashlib.blake2b(env.frontend.latest.rgb.tobytes(), digest_size=8).hexdigest())
                sticks.append(env.link.state().x_axis)
            episodes.append({"frames": frames, "digests": digests, "sticks": sticks, "ram": _ram_digest(env.frontend)})
    finally:
        env.close()
    return {"episodes": episodes}


def pad_in_ram(args: dict) -> dict:
    """Serve pad states through the controller to our input plugin; RDRAM after each, in N64 byte order."""
    import numpy as np

    from tensorkart_emulator.gym_env import EmulatorEnv

    plugins = {**DEFAULT_PLUGINS, m64p.PluginType.INPUT: Path(args["input_plugin"])}
    env = EmulatorEnv(args["rom"], args["controller"], pad_server=args["pad_server"], plugins=plugins)
    snapshots = []
    try:
        env.reset()
        for action in args["actions"]:
            for _ in range(6):
                env.step(np.array(action, dtype=np.float32))
            words = np.array(env.frontend.core.rdram(), dtype="<u4").astype(">u4")
            snapshots.append(words.view(np.uint8).tobytes().hex())
    finally:
        env.close()
    return {"ram": snapshots}


SCENARIOS = {
    fn.__name__: fn
    for fn in (
        plugins,
        config,
        rom_errors,
        plugin_errors,
        start_errors,
        lockstep,
        replay,
        free_run,
        gym_episodes,
        pad_in_ram,
    )
}


def main() -> None:
    name, raw = sys.argv[1], sys.argv[2]
    args = json.loads(raw)
    args.setdefault("config_dir", tempfile.mkdtemp(prefix="tk-emu-"))
    print(json.dumps(SCENARIOS[name](args)), flush=True)


if __name__ == "__main__":
    main()
