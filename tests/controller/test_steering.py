"""Steering -> pad state through the real process: mapping, safety timeout, lock-step,
shadow mode and manual override."""

from __future__ import annotations

import time

import grpc
import pytest

from tensorkart_core.proto.v1 import controller_pb2, types_pb2
from tests.controller.conftest import start_poll

HUMAN = types_pb2.STEERING_SOURCE_HUMAN
MODEL = types_pb2.STEERING_SOURCE_MODEL
# Long enough that "steering is fresh" never depends on how busy the machine is.
FRESH_MS = "5000"


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_mapping_gain_deadzone_clamp_and_hold_a(start_controller):
    controller = start_controller(gain="2.0", deadzone="0.1", safety_timeout_ms=FRESH_MS)
    cases = [  # (x, y) -> (X_AXIS, Y_AXIS): gain 2, deadzone 0.1, N64 Y up-positive
        ((0.05, -0.08), (0, 0)),
        ((0.3, -0.25), (48, 40)),
        ((0.9, 0.7), (80, -80)),
        ((-0.9, -1.0), (-80, 80)),
        ((-0.2, 0.0), (-32, 0)),
    ]
    for (x, y), (x_axis, y_axis) in cases:
        state = controller.set(x=x, y=y, a=False)
        pad = controller.poll()
        assert (pad["X_AXIS"], pad["Y_AXIS"]) == (x_axis, y_axis), (x, y)
        assert (state.x_axis, state.y_axis) == (x_axis, y_axis)
        assert pad["A_BUTTON"] == 1 and state.a_button  # model steering: A held
    controller.set(x=0.0, b=True, rb=True)
    pad = controller.poll()
    assert pad["B_BUTTON"] == 1 and pad["R_TRIG"] == 1 and pad["L_TRIG"] == 0


def test_without_hold_a_the_steering_decides_a(start_controller):
    controller = start_controller(hold_a="false", safety_timeout_ms=FRESH_MS)
    controller.set(x=1.0, a=False)
    pad = controller.poll()
    assert pad["X_AXIS"] == 80 and pad["A_BUTTON"] == 0
    controller.set(x=1.0, a=True)
    assert controller.poll()["A_BUTTON"] == 1


def test_invalid_steering_is_rejected_with_a_clear_error(start_controller):
    controller = start_controller(safety_timeout_ms=FRESH_MS)
    controller.set(x=-0.5)
    with pytest.raises(grpc.RpcError) as error:
        controller.set(x=float("nan"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "not finite" in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        controller.set(x=0.5, port=4)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "port 4" in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        controller.state(port=9)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert controller.poll()["X_AXIS"] == -40  # nothing already set was lost


def test_safety_timeout_goes_neutral_then_recovers(start_controller):
    controller = start_controller(safety_timeout_ms="1500")
    state = controller.set(x=-1.0, frame=1)
    assert state.x_axis == -80 and state.a_button and state.source == MODEL
    # No more steering: within a generous wait the stick centres and A is released.
    assert wait_until(lambda: (pad := controller.poll())["X_AXIS"] == 0 and pad["A_BUTTON"] == 0)
    pad = controller.poll()
    assert all(value == 0 for value in pad.values())
    state = controller.state()
    assert state.source == types_pb2.STEERING_SOURCE_SAFETY and state.x_axis == 0 and not state.a_button
    assert 'tensorkart_controller_neutral_fallbacks_total{port="0"} 1.0' in controller.metrics()
    # Steering resumes: the pad follows it again at once.
    controller.set(x=0.5, frame=2)
    pad = controller.poll()
    assert pad["X_AXIS"] == 40 and pad["A_BUTTON"] == 1


def test_lock_step_poll_waits_for_fresh_steering(start_controller):
    controller = start_controller(mode="lock_step", lock_step_timeout_ms="60000", safety_timeout_ms=FRESH_MS)
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)  # no steering yet: the poll is held
    controller.set(x=0.25, frame=1)
    assert done.wait(20)
    assert result["pad"]["X_AXIS"] == 20 and result["pad"]["A_BUTTON"] == 1
    # That steering was served: the next poll waits for newer steering again.
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)
    controller.set(x=-0.25, frame=2)
    assert done.wait(20) and result["pad"]["X_AXIS"] == -20
    # Steering that arrives before the poll is answered at once.
    controller.set(x=1.0, frame=3)
    assert controller.poll()["X_AXIS"] == 80
    # A stale answer (inference skipped the frame) releases the poll with the current state.
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)
    controller.stub.SetSteering(types_pb2.Steering(frame_sequence=4, stale=True, source=MODEL), timeout=30)
    assert done.wait(20) and result["pad"]["X_AXIS"] == 80


def test_lock_step_poll_times_out_and_configure_switches_mode(start_controller):
    controller = start_controller(mode="lock_step", lock_step_timeout_ms="60000", safety_timeout_ms="300")
    config = controller.stub.Configure(controller_pb2.ControllerConfig(lock_step_timeout_ms=400), timeout=30)
    assert config.mode == controller_pb2.CONTROLLER_MODE_LOCK_STEP and config.lock_step_timeout_ms == 400
    controller.set(x=1.0, frame=1)
    controller.poll()  # serves frame 1 (its value depends on the short safety timeout, so not checked)
    done, result = start_poll(controller.http_port)
    assert done.wait(20)  # no fresh steering: answered after the lock-step timeout...
    assert result["seconds"] >= 0.35
    assert result["pad"]["X_AXIS"] == 0 and result["pad"]["A_BUTTON"] == 0  # ...neutral, the steering is stale
    assert 'tensorkart_controller_lock_step_timeouts_total{port="0"} 1.0' in controller.metrics()
    # A poll held in lock-step is released when the mode changes to free-run.
    controller.stub.Configure(controller_pb2.ControllerConfig(lock_step_timeout_ms=60000), timeout=30)
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)
    config = controller.stub.Configure(
        controller_pb2.ControllerConfig(mode=controller_pb2.CONTROLLER_MODE_FREE_RUN), timeout=30
    )
    assert config.mode == controller_pb2.CONTROLLER_MODE_FREE_RUN and config.lock_step_timeout_ms == 60000
    assert done.wait(20)
    with pytest.raises(grpc.RpcError) as error:
        controller.stub.Configure(controller_pb2.ControllerConfig(lock_step_timeout_ms=10**9), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "lock_step_timeout_ms" in error.value.details()


def test_lock_step_late_steering_does_not_answer_the_next_frame(start_controller):
    controller = start_controller(mode="lock_step", lock_step_timeout_ms="400", safety_timeout_ms=FRESH_MS)
    captured = time.monotonic_ns()  # frame 1 is captured, then its poll times out
    done, result = start_poll(controller.http_port)
    assert done.wait(20) and result["pad"]["X_AXIS"] == 0
    late = types_pb2.Steering(
        frame_sequence=1, capture_time_ns=captured, source=MODEL, joystick=types_pb2.Joystick(x=-1.0)
    )
    assert controller.stub.SetSteering(late, timeout=30).x_axis == -80  # the state follows it...
    controller.stub.Configure(controller_pb2.ControllerConfig(lock_step_timeout_ms=60000), timeout=30)
    done, result = start_poll(controller.http_port)
    assert not done.wait(0.5)  # ...but the next frame's poll waits for the next frame's steering
    fresh = types_pb2.Steering(
        frame_sequence=2, capture_time_ns=time.monotonic_ns(), source=MODEL, joystick=types_pb2.Joystick(x=0.5)
    )
    controller.stub.SetSteering(fresh, timeout=30)
    assert done.wait(20) and result["pad"]["X_AXIS"] == 40
    assert 'tensorkart_controller_lock_step_late_total{source="model"} 1.0' in controller.metrics()


def test_shadow_mode_compares_model_but_only_human_drives(start_controller):
    controller = start_controller(shadow="true", safety_timeout_ms=FRESH_MS, agreement_window="4")
    state = controller.set(x=-1.0, frame=1, source=MODEL)
    assert state.x_axis == 0 and state.source == types_pb2.STEERING_SOURCE_UNSPECIFIED
    assert controller.poll()["X_AXIS"] == 0
    controller.set(x=0.5, frame=1, source=HUMAN, a=True)  # pairs with the model's frame 1: |dx| 1.5
    pad = controller.poll()
    assert pad["X_AXIS"] == 40 and pad["A_BUTTON"] == 1
    controller.set(x=0.45, frame=2, source=HUMAN, a=True)
    state = controller.set(x=0.5, frame=2, source=MODEL)  # |dx| 0.05: agrees
    assert state.x_axis == 36 and state.source == HUMAN and state.human_override
    assert state.agreement.frames == 2
    assert state.agreement.mean_abs_dx == pytest.approx((1.5 + 0.05) / 2, abs=1e-4)
    assert state.agreement.within_0_1 == pytest.approx(0.5)
    text = controller.metrics()
    assert 'tensorkart_controller_steering_ignored_total{reason="shadow",source="model"} 2.0' in text
    assert 'tensorkart_controller_shadow_agreement_ratio{port="0"} 0.5' in text
    # Shadow off at run time: model steering drives again once the human lets go.
    config = controller.stub.Configure(controller_pb2.ControllerConfig(shadow=False), timeout=30)
    assert not config.shadow and config.mode == controller_pb2.CONTROLLER_MODE_FREE_RUN


def test_shadow_mode_is_per_pad(start_controller):
    controller = start_controller(safety_timeout_ms="2000")
    config = controller.stub.Configure(controller_pb2.ControllerConfig(shadow=True, port=1), timeout=30)
    assert config.shadow and config.port == 1
    # pad 1 is in shadow: the model only predicts there; pad 0 is driven by its model as before
    assert controller.set(x=-1.0, frame=1, source=MODEL, port=1).x_axis == 0
    assert controller.set(x=-1.0, frame=1, source=MODEL, port=0).x_axis == -80
    assert controller.state(1).shadow and not controller.state(0).shadow
    assert controller.poll(1)["X_AXIS"] == 0 and controller.poll(0)["X_AXIS"] == -80
    reply = controller.stub.Configure(controller_pb2.ControllerConfig(port=0), timeout=30)
    assert not reply.shadow  # asking about pad 0 leaves pad 1's shadow on
    assert controller.stub.Configure(controller_pb2.ControllerConfig(port=1), timeout=30).shadow
    with pytest.raises(grpc.RpcError) as caught:
        controller.stub.Configure(controller_pb2.ControllerConfig(shadow=True, port=4), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "port 4" in caught.value.details()


def test_human_override_wins_while_human_steering_keeps_arriving(start_controller):
    controller = start_controller(safety_timeout_ms="2000")
    assert controller.set(x=-1.0, frame=1, source=MODEL).x_axis == -80
    state = controller.set(x=0.25, frame=2, source=HUMAN, a=False)
    assert state.x_axis == 20 and not state.a_button and state.human_override  # the human's own buttons
    state = controller.set(x=-1.0, frame=3, source=MODEL)
    assert state.x_axis == 20 and state.source == HUMAN  # model ignored during the override
    assert controller.poll()["X_AXIS"] == 20
    assert 'tensorkart_controller_steering_ignored_total{reason="override",source="model"} 1.0' in controller.metrics()
    # The human stops: after the safety timeout the model may drive again.
    assert wait_until(lambda: not controller.state().human_override)
    state = controller.set(x=-1.0, frame=4, source=MODEL)
    assert state.x_axis == -80 and state.source == MODEL and state.a_button


def test_push_steering_stream_applies_in_order_and_measures_latency(start_controller):
    controller = start_controller(safety_timeout_ms=FRESH_MS)
    now = time.monotonic_ns()
    messages = [
        types_pb2.Steering(
            frame_sequence=n, capture_time_ns=now + n, source=MODEL, joystick=types_pb2.Joystick(x=n / 10)
        )
        for n in range(1, 9)
    ]
    messages.insert(3, types_pb2.Steering(frame_sequence=99, stale=True, source=MODEL))
    messages.insert(5, types_pb2.Steering(frame_sequence=98, joystick=types_pb2.Joystick(x=float("inf"))))
    summary = controller.stub.PushSteering(iter(messages), timeout=30)
    assert (summary.received, summary.applied) == (10, 8)
    state = controller.state()
    assert state.x_axis == 64 and state.frame_sequence == 8
    # Older than what was already applied (capture time): stale, not applied.
    old = types_pb2.Steering(frame_sequence=3, capture_time_ns=now + 3, source=MODEL)
    summary = controller.stub.PushSteering(iter([old]), timeout=30)
    assert (summary.received, summary.applied) == (1, 0)
    assert controller.poll()["X_AXIS"] == 64
    text = controller.metrics()
    assert 'tensorkart_play_loop_latency_seconds_count{source="model"} 8.0' in text
    assert 'tensorkart_controller_steering_stale_total{source="model"} 2.0' in text
    assert 'tensorkart_controller_steering_applied_total{source="model"} 8.0' in text
