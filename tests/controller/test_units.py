"""In-process checks of the pure pieces: axis mapping, reply bytes, request routing, agreement."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tensorkart_controller.agreement import AgreementTracker
from tensorkart_controller.httpwire import BAD_REQUEST, NOT_ALLOWED, NOT_FOUND, route
from tensorkart_controller.mapping import Calibration, PadState, axis, pad_state
from tensorkart_core.proto.v1 import types_pb2
from tests.controller.conftest import N64_KEYS


@given(st.floats(-5, 5), st.floats(0.1, 4), st.floats(0, 0.9))
def test_axis_is_clamped_signed_and_respects_the_deadzone(value, gain, deadzone):
    result = axis(value, Calibration(gain=gain, deadzone=deadzone))
    assert -80 <= result <= 80 and type(result) is int
    if abs(value) <= deadzone:
        assert result == 0
    else:
        assert result == max(-80, min(80, round(gain * value * 80)))
        assert result == 0 or (result > 0) == (value > 0)


def test_tensorkart_y_is_negated_and_human_buttons_pass_through():
    human = types_pb2.Steering(
        source=types_pb2.STEERING_SOURCE_HUMAN, joystick=types_pb2.Joystick(x=-1, y=-1, a=False, z=True, start=True)
    )
    state = pad_state(human, Calibration(hold_a=True))
    assert (state.x_axis, state.y_axis, state.a_button, state.z_trig, state.start_button) == (
        -80,
        80,
        False,
        True,
        True,
    )


def test_pad_json_has_all_keys_as_integers():
    body = json.loads(PadState(x_axis=-80, y_axis=12, a_button=True, r_trig=True).as_json())
    assert set(body) == N64_KEYS and all(type(v) is int for v in body.values())
    assert (body["X_AXIS"], body["Y_AXIS"], body["A_BUTTON"], body["R_TRIG"], body["B_BUTTON"]) == (-80, 12, 1, 1, 0)


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"GET /0 HTTP/1.0\r\n\r\n", 0),
        (b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n", 3),
        (b"GET /2?t=1 HTTP/1.0\r\n\r\n", 2),
        (b"GET /4 HTTP/1.0\r\n\r\n", NOT_FOUND),
        (b"GET /01 HTTP/1.0\r\n\r\n", NOT_FOUND),
        (b"PUT /0 HTTP/1.0\r\n\r\n", NOT_ALLOWED),
        (b"\r\n\r\n", BAD_REQUEST),
    ],
)
def test_route(request_bytes, expected):
    assert route(request_bytes) == expected


def test_agreement_pairs_by_frame_and_slides_its_window():
    tracker = AgreementTracker(window=2)
    assert tracker.model(1, 0.5, now_ns=0, fresh_ns=10) is None
    assert tracker.human(1, 0.45, now_ns=1) == pytest.approx(0.05)
    assert tracker.human(2, 0.0, now_ns=2) is None
    assert tracker.model(2, 1.0, now_ns=3, fresh_ns=10) == pytest.approx(1.0)
    assert tracker.model(3, -1.0, now_ns=4, fresh_ns=10) is None  # no human for frame 3 yet
    summary = tracker.summary()
    assert summary.frames == 2 and summary.mean_abs_dx == pytest.approx(0.525) and summary.within_0_1 == 0.5
    tracker.human(3, -1.0, now_ns=5)  # completes frame 3, pushes frame 1 out of the window
    summary = tracker.summary()
    assert summary.frames == 2 and summary.mean_abs_dx == pytest.approx(0.5) and summary.within_0_1 == 0.5
    # Human steering naming no frame pairs with the next model steering while fresh.
    tracker.human(0, 0.2, now_ns=100)
    assert tracker.model(7, 0.25, now_ns=105, fresh_ns=10) == pytest.approx(0.05)
    assert tracker.model(8, 0.25, now_ns=200, fresh_ns=10) is None
