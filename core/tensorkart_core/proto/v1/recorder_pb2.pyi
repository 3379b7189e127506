from tensorkart_core.proto.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AckCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_CODE_OK: _ClassVar[AckCode]
    ACK_CODE_INVALID_ARGUMENT: _ClassVar[AckCode]
    ACK_CODE_INTERNAL: _ClassVar[AckCode]
ACK_CODE_OK: AckCode
ACK_CODE_INVALID_ARGUMENT: AckCode
ACK_CODE_INTERNAL: AckCode

class SessionStart(_message.Message):
    __slots__ = ("name", "resume", "metadata", "rate_hz", "capture_id", "frames_dropped", "sequence_gaps_are_drops")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_GAPS_ARE_DROPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    resume: bool
    metadata: _containers.ScalarMap[str, str]
    rate_hz: float
    capture_id: str
    frames_dropped: int
    sequence_gaps_are_drops: bool
    def __init__(self, name: _Optional[str] = ..., resume: _Optional[bool] = ..., metadata: _Optional[_Mapping[str, str]] = ..., rate_hz: _Optional[float] = ..., capture_id: _Optional[str] = ..., frames_dropped: _Optional[int] = ..., sequence_gaps_are_drops: _Optional[bool] = ...) -> None: ...

class EndOfStream(_message.Message):
    __slots__ = ("frames_dropped",)
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    frames_dropped: int
    def __init__(self, frames_dropped: _Optional[int] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("start", "sample", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: SessionStart
    sample: _types_pb2.Sample
    end: EndOfStream
    def __init__(self, start: _Optional[_Union[SessionStart, _Mapping]] = ..., sample: _Optional[_Union[_types_pb2.Sample, _Mapping]] = ..., end: _Optional[_Union[EndOfStream, _Mapping]] = ...) -> None: ...

class RecordAck(_message.Message):
    __slots__ = ("frame_sequence", "code", "error", "final", "summary")
    FRAME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    frame_sequence: int
    code: AckCode
    error: str
    final: bool
    summary: SessionSummary
    def __init__(self, frame_sequence: _Optional[int] = ..., code: _Optional[_Union[AckCode, str]] = ..., error: _Optional[str] = ..., final: _Optional[bool] = ..., summary: _Optional[_Union[SessionSummary, _Mapping]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("name", "path", "frames_received", "frames_written", "frames_rejected", "frames_dropped")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FRAMES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    FRAMES_REJECTED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    frames_received: int
    frames_written: int
    frames_rejected: int
    frames_dropped: int
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., frames_received: _Optional[int] = ..., frames_written: _Optional[int] = ..., frames_rejected: _Optional[int] = ..., frames_dropped: _Optional[int] = ...) -> None: ...
