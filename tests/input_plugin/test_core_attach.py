"""The plugin through Debian's real mupen64plus 2.5.9 core: the core's attach accepts it (input
API 2.1, the check that refuses the stock input-bot plugin), config is read through the
core's config API, and the plugin starts and shuts down cleanly."""

from __future__ import annotations

from tests.input_plugin.support import OK_HEAD, reply_with, settings_for


def test_core_attaches_plugin_with_input_api_2_1(poller, loopback_server):
    server = loopback_server(reply_with(OK_HEAD + b"{}"))
    child = poller(settings_for(server.port))  # no timeout_ms: the default
    assert child.ready["plugin_type"] == 4  # M64PLUGIN_INPUT
    assert child.ready["api_version"] == 0x020100
    assert "tensorkart-input" in child.ready["name"]
    assert child.ready["rom_open"] == 1
    assert not [line for line in child.core_logs() if "incompatible" in line or "broken Input plugin" in line]
    assert any(f"127.0.0.1:{server.port}, timeout 10 ms" in line for line in child.plugin_logs())
    assert child.poll(0)["value"] == 0  # an empty object is a neutral pad
    assert child.quit()["plugin_shutdown"] == 0


def test_config_set_as_strings_like_mupen64plus_set(poller, loopback_server):
    """`mupen64plus --set 'Input-Bot-Control1[port]=N'` stores unknown keys as strings."""
    server = loopback_server(reply_with(OK_HEAD + b'{"B_BUTTON":1,"Y_AXIS":-20}'))
    child = poller(settings_for(server.port, controller=1, timeout_ms=3000), as_strings=True)
    assert any(
        f"controller 1: input-bot server 127.0.0.1:{server.port}, timeout 3000 ms" in m for m in child.plugin_logs()
    )
    pad = child.poll(1)
    assert (pad["buttons"], pad["x"], pad["y"]) == (["B_BUTTON"], 0, -20)
    assert server.requests == [b"GET /1 HTTP/1.0\r\n\r\n"]
    child.quit()


def test_unplugged_controllers_are_neutral_without_a_connection(poller, loopback_server):
    server = loopback_server(reply_with(OK_HEAD + b'{"A_BUTTON":1}'))
    # Controller 0 is plugged by default (as input-bot); 1-3 only when configured.
    child = poller(
        [
            f"Input-Bot-Control0[port]={server.port}",
            "Input-Bot-Control0[host]=127.0.0.1",
            "Input-Bot-Control0[timeout_ms]=3000",
        ]
    )
    assert child.poll(0)["buttons"] == ["A_BUTTON"]
    for controller in (1, 2, 3):
        assert child.poll(controller)["value"] == 0
    assert server.connections == 1
    child.quit()


def test_unusable_config_values_fall_back_with_a_warning(poller, loopback_server):
    child = poller(["Input-Bot-Control0[port]=http", "Input-Bot-Control0[timeout_ms]=0"], as_strings=True)
    warnings = child.plugin_logs(level=2)
    assert any("Input-Bot-Control0[port]=http is not an integer in 1..65535; using 8082" in w for w in warnings)
    assert any("Input-Bot-Control0[timeout_ms]=0 is not an integer in 1..10000; using 10" in w for w in warnings)
    child.quit()
