from tensorkart_core.proto.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ControllerMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROLLER_MODE_UNSPECIFIED: _ClassVar[ControllerMode]
    CONTROLLER_MODE_FREE_RUN: _ClassVar[ControllerMode]
    CONTROLLER_MODE_LOCK_STEP: _ClassVar[ControllerMode]
CONTROLLER_MODE_UNSPECIFIED: ControllerMode
CONTROLLER_MODE_FREE_RUN: ControllerMode
CONTROLLER_MODE_LOCK_STEP: ControllerMode

class GetStateRequest(_message.Message):
    __slots__ = ("port",)
    PORT_FIELD_NUMBER: _ClassVar[int]
    port: int
    def __init__(self, port: _Optional[int] = ...) -> None: ...

class PushSummary(_message.Message):
    __slots__ = ("received", "applied")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    received: int
    applied: int
    def __init__(self, received: _Optional[int] = ..., applied: _Optional[int] = ...) -> None: ...

class ControllerConfig(_message.Message):
    __slots__ = ("mode", "shadow", "lock_step_timeout_ms", "port")
    MODE_FIELD_NUMBER: _ClassVar[int]
    SHADOW_FIELD_NUMBER: _ClassVar[int]
    LOCK_STEP_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    mode: ControllerMode
    shadow: bool
    lock_step_timeout_ms: int
    port: int
    def __init__(self, mode: _Optional[_Union[ControllerMode, str]] = ..., shadow: _Optional[bool] = ..., lock_step_timeout_ms: _Optional[int] = ..., port: _Optional[int] = ...) -> None: ...
