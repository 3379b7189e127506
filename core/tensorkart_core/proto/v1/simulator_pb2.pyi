from tensorkart_core.proto.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamFramesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SimFrame(_message.Message):
    __slots__ = ("frame", "joystick", "laps", "interventions", "sim_seconds", "finished", "progress")
    FRAME_FIELD_NUMBER: _ClassVar[int]
    JOYSTICK_FIELD_NUMBER: _ClassVar[int]
    LAPS_FIELD_NUMBER: _ClassVar[int]
    INTERVENTIONS_FIELD_NUMBER: _ClassVar[int]
    SIM_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    frame: _types_pb2.Frame
    joystick: _types_pb2.Joystick
    laps: int
    interventions: int
    sim_seconds: float
    finished: bool
    progress: float
    def __init__(self, frame: _Optional[_Union[_types_pb2.Frame, _Mapping]] = ..., joystick: _Optional[_Union[_types_pb2.Joystick, _Mapping]] = ..., laps: _Optional[int] = ..., interventions: _Optional[int] = ..., sim_seconds: _Optional[float] = ..., finished: _Optional[bool] = ..., progress: _Optional[float] = ...) -> None: ...
