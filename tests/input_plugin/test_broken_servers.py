"""Every way an input-bot server can go wrong gives a neutral pad, a rate-limited log line and
a poll bounded by the timeout: never a crash (the poller is a child process: a crash fails
the test with its signal), never a hang. The stock plugin segfaults, hangs or crashes on
these (DESIGN.md, as measured)."""

from __future__ import annotations

import socket

import pytest

from tests.helpers import NOBODY_PORT
from tests.input_plugin.support import OK_HEAD, reply_with, send_and_hold, settings_for

TIMEOUT_MS = 50
# A poll that hangs would never return; this only tells "bounded by the timeout" from a hang
# on a busy 2-core machine. The benchmark measures the real cost.
SLACK_MS = 400
# For replies the server does send: long enough that a loaded machine never turns them into
# timeouts (the loopback servers are Python threads).
REPLY_TIMEOUT_MS = 3000

MALFORMED = {
    "bare JSON, no headers": (b'{"A_BUTTON":1,"X_AXIS":-80}', "no header end"),
    "LF-only headers": (b'HTTP/1.0 200 OK\nContent-Type: application/json\n\n{"A_BUTTON":1}', "LF-only headers"),
    "closed without a byte": (b"", "no header end"),
    "headers never ended": (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n", "no header end"),
    "not found": (b'HTTP/1.0 404 Not Found\r\n\r\n{"error":"x"}', "bad status"),
    "non-JSON body": (OK_HEAD + b"<html>hello</html>", "not JSON"),
    "truncated JSON": (OK_HEAD + b'{"A_BUTTON":1,"X_AX', "not JSON"),
    "trailing data": (OK_HEAD + b'{"A_BUTTON":1} {"A_BUTTON":1}', "not JSON"),
    "string value": (OK_HEAD + b'{"A_BUTTON":"1"}', "not integer"),
    "float value": (OK_HEAD + b'{"X_AXIS":-40.5}', "not integer"),
    "boolean value": (OK_HEAD + b'{"A_BUTTON":true}', "not integer"),
    "nested value": (OK_HEAD + b'{"X_AXIS":{"v":1}}', "not integer"),
    "duplicate key": (OK_HEAD + b'{"X_AXIS":10,"X_AXIS":-10}', "duplicate key"),
    "button 2": (OK_HEAD + b'{"A_BUTTON":2}', "out of range"),
    "stick 200": (OK_HEAD + b'{"X_AXIS":200}', "out of range"),
    "huge integer": (OK_HEAD + b'{"Y_AXIS":-123456789012345678901234567890}', "out of range"),
    "oversize": (OK_HEAD + b'{"A_BUTTON":1' + b" " * 5000 + b"}", "oversize"),
}


@pytest.mark.parametrize("reply,status", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_reply_gives_neutral_pad_and_a_log_line(poller, loopback_server, reply, status):
    server = loopback_server(reply_with(reply))
    child = poller(settings_for(server.port, timeout_ms=REPLY_TIMEOUT_MS))
    pad = child.poll(0)
    assert pad["value"] == 0
    assert any(f"controller 0: neutral pad: {status} (" in line for line in child.plugin_logs(level=2)), child.logs
    child.quit()


def test_stick_is_clamped_to_80_and_buttons_are_whole(poller, loopback_server):
    server = loopback_server(reply_with(OK_HEAD + b'{"X_AXIS":127,"Y_AXIS":-128,"A_BUTTON":1,"Z_TRIG":1}'))
    child = poller(settings_for(server.port, timeout_ms=REPLY_TIMEOUT_MS))
    pad = child.poll(0)
    assert (sorted(pad["buttons"]), pad["x"], pad["y"]) == (["A_BUTTON", "Z_TRIG"], 80, -80)
    child.quit()


def test_failure_lines_are_rate_limited_and_recovery_is_logged(poller, loopback_server):
    replies = iter([b"garbage"] * 300 + [OK_HEAD + b'{"A_BUTTON":1}'] * 10)

    def handle(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(next(replies))
        conn.close()

    server = loopback_server(handle)
    child = poller(settings_for(server.port, timeout_ms=REPLY_TIMEOUT_MS))
    bad = child.polls(0, 300)
    assert bad["last"]["value"] == 0
    assert child.poll(0)["buttons"] == ["A_BUTTON"]
    failures = [line for line in child.plugin_logs(level=2) if "neutral pad" in line]
    seconds = sum(bad["ns"]) / 1e9
    assert 1 <= len(failures) <= 1 + seconds, (seconds, failures)  # at most one line a second
    assert any("replies valid again after 300 neutral polls" in line for line in child.plugin_logs(level=3))
    child.quit()


@pytest.mark.parametrize(
    "name,handler,accept",
    [
        ("answers nothing, keeps the connection open", send_and_hold(b""), True),
        ("sends headers, then nothing, connection open", send_and_hold(b"HTTP/1.0 200 OK\r\n"), True),
        ("sends a whole reply but never closes", send_and_hold(OK_HEAD + b'{"A_BUTTON":1}'), True),
        ("never accepts the connection", send_and_hold(b""), False),
    ],
)
def test_silent_server_costs_at_most_the_timeout(poller, loopback_server, name, handler, accept):
    server = loopback_server(handler, accept=accept)
    child = poller(settings_for(server.port, timeout_ms=TIMEOUT_MS))
    result = child.polls(0, 5, timeout=10)
    assert result["last"]["value"] == 0
    assert all(TIMEOUT_MS * 1e6 * 0.9 <= ns < (TIMEOUT_MS + SLACK_MS) * 1e6 for ns in result["ns"]), result["ns"]
    assert any("neutral pad: timeout" in line for line in child.plugin_logs(level=2)), child.logs
    child.quit()


def test_oversize_reply_on_an_open_connection_is_cut_at_once(poller, loopback_server):
    server = loopback_server(send_and_hold(OK_HEAD + b"{" + b" " * 8000))
    child = poller(settings_for(server.port, timeout_ms=5000))
    pad = child.poll(0)
    assert pad["value"] == 0 and pad["ns"] < 2e9
    assert any("neutral pad: oversize" in line for line in child.plugin_logs(level=2))
    child.quit()


def test_unknown_host_is_neutral(poller):
    child = poller(["Input-Bot-Control0[host]=no-such-host.invalid", "Input-Bot-Control0[timeout_ms]=50"])
    assert any("cannot resolve no-such-host.invalid" in line for line in child.plugin_logs(level=1))
    result = child.polls(0, 20)
    assert result["last"]["value"] == 0 and max(result["ns"]) < (TIMEOUT_MS + SLACK_MS) * 1e6
    child.quit()


def test_server_down_is_neutral(poller):
    child = poller(settings_for(NOBODY_PORT, timeout_ms=TIMEOUT_MS))  # nothing listens there
    assert child.poll(0)["value"] == 0
    assert any("neutral pad: connect failed" in line for line in child.plugin_logs(level=2))
    child.quit()
