"""The input-bot HTTP side, polled exactly like the mupen64plus-input-bot plugin."""

from __future__ import annotations

import json
import socket

from tests.controller.conftest import N64_KEYS, raw_poll, split_reply


def test_poll_like_the_plugin_gets_all_16_integer_fields(start_controller):
    controller = start_controller()
    reply = raw_poll(controller.http_port, "/0")  # returns only once the server closed the connection
    status, body = split_reply(reply)
    assert status == "HTTP/1.0 200 OK"
    assert len(reply) < 4095  # the plugin's buffer
    pad = json.loads(body)
    assert set(pad) == N64_KEYS
    assert all(type(value) is int for value in pad.values())
    assert pad == dict.fromkeys(N64_KEYS, 0)  # never driven: neutral, A released


def test_ports_1_to_3_have_their_own_state(start_controller):
    controller = start_controller(safety_timeout_ms="5000")
    controller.set(x=1.0, port=2)
    assert controller.poll(2)["X_AXIS"] == 80
    for port in (0, 1, 3):
        assert controller.poll(port)["X_AXIS"] == 0
    controller.set(x=-0.5, port=0)
    assert controller.poll(0)["X_AXIS"] == -40
    assert controller.poll(2)["X_AXIS"] == 80


def test_bad_paths_and_methods_get_small_errors(start_controller):
    controller = start_controller()
    for path in ("/4", "/00", "/metrics", "/", "/x"):
        status, body = split_reply(raw_poll(controller.http_port, path))
        assert status == "HTTP/1.0 404 Not Found", path
        assert len(body) < 100 and "error" in json.loads(body)
    with socket.create_connection(("127.0.0.1", controller.http_port), timeout=30) as sock:
        sock.sendall(b"POST /0 HTTP/1.0\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.0 405 ")
    with socket.create_connection(("127.0.0.1", controller.http_port), timeout=30) as sock:
        sock.sendall(b"garbage\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.0 400 ")
    assert 'tensorkart_controller_http_bad_requests_total{status="404"} 5.0' in controller.metrics()


def test_a_slow_client_does_not_hold_up_other_polls(start_controller):
    controller = start_controller()
    with socket.create_connection(("127.0.0.1", controller.http_port), timeout=30) as slow:
        slow.sendall(b"GET /0 HT")  # request incomplete: parked, not blocking the loop
        for _ in range(3):
            assert controller.poll(0)["X_AXIS"] == 0
        slow.sendall(b"TP/1.0\r\n\r\n")
        status, body = split_reply(slow.recv(4096) + slow.recv(4096))
        assert status == "HTTP/1.0 200 OK" and set(json.loads(body)) == N64_KEYS


def test_polls_are_counted_per_port(start_controller):
    controller = start_controller()
    for _ in range(3):
        controller.poll(0)
    controller.poll(3)
    text = controller.metrics()
    assert 'tensorkart_controller_polls_total{port="0"} 3.0' in text
    assert 'tensorkart_controller_polls_total{port="3"} 1.0' in text
