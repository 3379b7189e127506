from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Encoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENCODING_UNSPECIFIED: _ClassVar[Encoding]
    ENCODING_RAW_RGB: _ClassVar[Encoding]
    ENCODING_PNG: _ClassVar[Encoding]
    ENCODING_JPEG: _ClassVar[Encoding]

class SteeringSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEERING_SOURCE_UNSPECIFIED: _ClassVar[SteeringSource]
    STEERING_SOURCE_MODEL: _ClassVar[SteeringSource]
    STEERING_SOURCE_HUMAN: _ClassVar[SteeringSource]
    STEERING_SOURCE_SAFETY: _ClassVar[SteeringSource]

class SteeringError(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEERING_ERROR_UNSPECIFIED: _ClassVar[SteeringError]
    STEERING_ERROR_INVALID_FRAME: _ClassVar[SteeringError]
    STEERING_ERROR_SPEC_MISMATCH: _ClassVar[SteeringError]
ENCODING_UNSPECIFIED: Encoding
ENCODING_RAW_RGB: Encoding
ENCODING_PNG: Encoding
ENCODING_JPEG: Encoding
STEERING_SOURCE_UNSPECIFIED: SteeringSource
STEERING_SOURCE_MODEL: SteeringSource
STEERING_SOURCE_HUMAN: SteeringSource
STEERING_SOURCE_SAFETY: SteeringSource
STEERING_ERROR_UNSPECIFIED: SteeringError
STEERING_ERROR_INVALID_FRAME: SteeringError
STEERING_ERROR_SPEC_MISMATCH: SteeringError

class Frame(_message.Message):
    __slots__ = ("sequence", "capture_time_ns", "width", "height", "encoding", "data", "preprocess_id", "game_frame")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_FRAME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    capture_time_ns: int
    width: int
    height: int
    encoding: Encoding
    data: bytes
    preprocess_id: str
    game_frame: int
    def __init__(self, sequence: _Optional[int] = ..., capture_time_ns: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., encoding: _Optional[_Union[Encoding, str]] = ..., data: _Optional[bytes] = ..., preprocess_id: _Optional[str] = ..., game_frame: _Optional[int] = ...) -> None: ...

class Joystick(_message.Message):
    __slots__ = ("x", "y", "a", "b", "rb", "lb", "start", "z")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    RB_FIELD_NUMBER: _ClassVar[int]
    LB_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    a: bool
    b: bool
    rb: bool
    lb: bool
    start: bool
    z: bool
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., a: _Optional[bool] = ..., b: _Optional[bool] = ..., rb: _Optional[bool] = ..., lb: _Optional[bool] = ..., start: _Optional[bool] = ..., z: _Optional[bool] = ...) -> None: ...

class Sample(_message.Message):
    __slots__ = ("frame", "joystick")
    FRAME_FIELD_NUMBER: _ClassVar[int]
    JOYSTICK_FIELD_NUMBER: _ClassVar[int]
    frame: Frame
    joystick: Joystick
    def __init__(self, frame: _Optional[_Union[Frame, _Mapping]] = ..., joystick: _Optional[_Union[Joystick, _Mapping]] = ...) -> None: ...

class Steering(_message.Message):
    __slots__ = ("frame_sequence", "capture_time_ns", "model_version", "source", "joystick", "outputs", "stale", "server_time_ns", "port", "error", "error_code", "serving_preprocess_id")
    FRAME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    JOYSTICK_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    SERVING_PREPROCESS_ID_FIELD_NUMBER: _ClassVar[int]
    frame_sequence: int
    capture_time_ns: int
    model_version: str
    source: SteeringSource
    joystick: Joystick
    outputs: _containers.RepeatedScalarFieldContainer[float]
    stale: bool
    server_time_ns: int
    port: int
    error: str
    error_code: SteeringError
    serving_preprocess_id: str
    def __init__(self, frame_sequence: _Optional[int] = ..., capture_time_ns: _Optional[int] = ..., model_version: _Optional[str] = ..., source: _Optional[_Union[SteeringSource, str]] = ..., joystick: _Optional[_Union[Joystick, _Mapping]] = ..., outputs: _Optional[_Iterable[float]] = ..., stale: _Optional[bool] = ..., server_time_ns: _Optional[int] = ..., port: _Optional[int] = ..., error: _Optional[str] = ..., error_code: _Optional[_Union[SteeringError, str]] = ..., serving_preprocess_id: _Optional[str] = ...) -> None: ...

class ControllerState(_message.Message):
    __slots__ = ("x_axis", "y_axis", "a_button", "b_button", "z_trig", "r_trig", "l_trig", "start_button", "r_cbutton", "l_cbutton", "d_cbutton", "u_cbutton", "r_dpad", "l_dpad", "d_dpad", "u_dpad", "frame_sequence", "source", "model_version", "agreement", "human_override", "shadow")
    X_AXIS_FIELD_NUMBER: _ClassVar[int]
    Y_AXIS_FIELD_NUMBER: _ClassVar[int]
    A_BUTTON_FIELD_NUMBER: _ClassVar[int]
    B_BUTTON_FIELD_NUMBER: _ClassVar[int]
    Z_TRIG_FIELD_NUMBER: _ClassVar[int]
    R_TRIG_FIELD_NUMBER: _ClassVar[int]
    L_TRIG_FIELD_NUMBER: _ClassVar[int]
    START_BUTTON_FIELD_NUMBER: _ClassVar[int]
    R_CBUTTON_FIELD_NUMBER: _ClassVar[int]
    L_CBUTTON_FIELD_NUMBER: _ClassVar[int]
    D_CBUTTON_FIELD_NUMBER: _ClassVar[int]
    U_CBUTTON_FIELD_NUMBER: _ClassVar[int]
    R_DPAD_FIELD_NUMBER: _ClassVar[int]
    L_DPAD_FIELD_NUMBER: _ClassVar[int]
    D_DPAD_FIELD_NUMBER: _ClassVar[int]
    U_DPAD_FIELD_NUMBER: _ClassVar[int]
    FRAME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    HUMAN_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    SHADOW_FIELD_NUMBER: _ClassVar[int]
    x_axis: int
    y_axis: int
    a_button: bool
    b_button: bool
    z_trig: bool
    r_trig: bool
    l_trig: bool
    start_button: bool
    r_cbutton: bool
    l_cbutton: bool
    d_cbutton: bool
    u_cbutton: bool
    r_dpad: bool
    l_dpad: bool
    d_dpad: bool
    u_dpad: bool
    frame_sequence: int
    source: SteeringSource
    model_version: str
    agreement: ShadowAgreement
    human_override: bool
    shadow: bool
    def __init__(self, x_axis: _Optional[int] = ..., y_axis: _Optional[int] = ..., a_button: _Optional[bool] = ..., b_button: _Optional[bool] = ..., z_trig: _Optional[bool] = ..., r_trig: _Optional[bool] = ..., l_trig: _Optional[bool] = ..., start_button: _Optional[bool] = ..., r_cbutton: _Optional[bool] = ..., l_cbutton: _Optional[bool] = ..., d_cbutton: _Optional[bool] = ..., u_cbutton: _Optional[bool] = ..., r_dpad: _Optional[bool] = ..., l_dpad: _Optional[bool] = ..., d_dpad: _Optional[bool] = ..., u_dpad: _Optional[bool] = ..., frame_sequence: _Optional[int] = ..., source: _Optional[_Union[SteeringSource, str]] = ..., model_version: _Optional[str] = ..., agreement: _Optional[_Union[ShadowAgreement, _Mapping]] = ..., human_override: _Optional[bool] = ..., shadow: _Optional[bool] = ...) -> None: ...

class ShadowAgreement(_message.Message):
    __slots__ = ("frames", "mean_abs_dx", "within_0_1")
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    MEAN_ABS_DX_FIELD_NUMBER: _ClassVar[int]
    WITHIN_0_1_FIELD_NUMBER: _ClassVar[int]
    frames: int
    mean_abs_dx: float
    within_0_1: float
    def __init__(self, frames: _Optional[int] = ..., mean_abs_dx: _Optional[float] = ..., within_0_1: _Optional[float] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("version", "outputs", "preprocess_json", "preprocess_id", "backend")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_JSON_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    version: str
    outputs: _containers.RepeatedScalarFieldContainer[str]
    preprocess_json: str
    preprocess_id: str
    backend: str
    def __init__(self, version: _Optional[str] = ..., outputs: _Optional[_Iterable[str]] = ..., preprocess_json: _Optional[str] = ..., preprocess_id: _Optional[str] = ..., backend: _Optional[str] = ...) -> None: ...
