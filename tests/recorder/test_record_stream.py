"""The recorder service over real gRPC: layout, pixels, acks, malformed samples, names, GetSession."""

from __future__ import annotations

import json
import queue
import threading

import grpc
import numpy as np
import pytest
from PIL import Image

from tensorkart_capture.streamer import RecorderUnavailable, RecordingStreamer
from tensorkart_core.dataset import read_rows, validate_dataset
from tensorkart_core.grpc_client import make_channel
from tensorkart_core.proto.v1 import recorder_pb2, recorder_pb2_grpc, types_pb2
from tests.recorder.support import picture, sample, start_recorder


class RawStream:
    """A hand-driven Record stream: send one request, read the acks that come back."""

    def __init__(self, address: str) -> None:
        self.channel = make_channel(address)
        self.requests: queue.Queue = queue.Queue()
        self.call = recorder_pb2_grpc.RecorderStub(self.channel).Record(iter(self.requests.get, None))
        self.acks: list[recorder_pb2.RecordAck] = []

    def send(self, request: recorder_pb2.RecordRequest) -> None:
        self.requests.put(request)

    def next_ack(self) -> recorder_pb2.RecordAck:
        ack = next(self.call)
        self.acks.append(ack)
        return ack

    def finish(self) -> list[recorder_pb2.RecordAck]:
        self.requests.put(None)
        rest = list(self.call)
        self.acks.extend(rest)
        self.channel.close()
        return rest


def start(name: str, resume: bool = False, contiguous: bool = True, **fields) -> recorder_pb2.RecordRequest:
    return recorder_pb2.RecordRequest(
        start=recorder_pb2.SessionStart(
            name=name,
            resume=resume,
            metadata={"source": "test"},
            rate_hz=30,
            sequence_gaps_are_drops=contiguous,
            **fields,
        )
    )


def test_samples_are_written_in_the_tensorkart_layout_pixel_for_pixel(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    streamer = RecordingStreamer(recorder.address, "run1", metadata={"source": "test", "track": "luigi"}, rate_hz=30)
    streamer.start()
    xs = [round(-1 + i / 10, 3) for i in range(20)]
    for index, x in enumerate(xs, start=1):
        assert streamer.offer(sample(index, x=x))
    stats = streamer.close()
    assert stats.written == 20 and stats.dropped == 0 and stats.rejected == 0
    assert streamer.summary.frames_written == 20

    folder = data_root / "samples" / "run1"
    csv_path = folder / "data.csv"
    # Exactly how TensorKart's utils.py reads it.
    values = np.loadtxt(csv_path, delimiter=",", usecols=(1, 2, 3, 4, 5), ndmin=2)
    paths = np.loadtxt(csv_path, delimiter=",", usecols=(0,), dtype=str, ndmin=1)
    assert values.shape == (20, 5)
    np.testing.assert_allclose(values[:, 0], xs, atol=1e-6)
    np.testing.assert_allclose(values[:, 1], [-0.5 * x for x in xs], atol=1e-6)
    assert list(values[:, 2]) == [1.0] * 20
    assert list(paths) == [f"samples/run1/img_{i}.png" for i in range(20)]
    for index in range(20):
        stored = np.asarray(Image.open(data_root / paths[index]))
        assert np.array_equal(stored, picture(index + 1)), f"img_{index}.png differs from frame {index + 1}"
    info = json.loads((folder / "session.json").read_text())
    assert info["source"] == "test" and info["track"] == "luigi" and info["rate_hz"] == 30
    assert info["resolution"] == "640x480"
    assert info["frames_received"] == 20 and info["frames_written"] == 20 and info["frames_dropped"] == 0
    assert info["segments"][0]["ended"] is not None
    assert validate_dataset(data_root, "run1").valid
    assert not list(folder.glob(".*tmp"))


def test_malformed_samples_get_invalid_argument_in_their_ack_and_the_stream_goes_on(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    stream = RawStream(recorder.address)
    stream.send(start("mixed"))
    first = stream.next_ack()
    assert first.code == recorder_pb2.ACK_CODE_OK and first.frame_sequence == 0

    good = sample(1)
    short = sample(2)
    short.frame.data = short.frame.data[:-5]
    zero = sample(3)
    zero.frame.width = 0
    zero.frame.height = 0
    zero.frame.data = b""
    unknown = sample(4)
    unknown.frame.encoding = types_pb2.ENCODING_UNSPECIFIED
    garbage_png = sample(5)
    garbage_png.frame.encoding = types_pb2.ENCODING_PNG
    garbage_png.frame.data = b"not a png"
    out_of_range = sample(6)
    out_of_range.joystick.x = 3.0
    no_frame = types_pb2.Sample(joystick=types_pb2.Joystick())
    last_good = sample(7)
    for item in (good, short, zero, unknown, garbage_png, out_of_range, no_frame, last_good):
        stream.send(recorder_pb2.RecordRequest(sample=item))
    rest = stream.finish()
    final = rest[-1]
    assert final.final
    by_sequence = {ack.frame_sequence: ack for ack in stream.acks[1:-1] if ack.frame_sequence}
    assert by_sequence[1].code == recorder_pb2.ACK_CODE_OK
    assert by_sequence[7].code == recorder_pb2.ACK_CODE_OK
    for bad, words in ((2, "bytes"), (3, "zero size"), (4, "encoding"), (5, "decode"), (6, "outside")):
        assert by_sequence[bad].code == recorder_pb2.ACK_CODE_INVALID_ARGUMENT
        assert words in by_sequence[bad].error
    assert any(a.code == recorder_pb2.ACK_CODE_INVALID_ARGUMENT and "no frame" in a.error for a in stream.acks)
    assert final.summary.frames_written == 2 and final.summary.frames_rejected == 6
    rows, _ = read_rows(data_root / "samples" / "mixed" / "data.csv")
    assert [r.image for r in rows] == ["samples/mixed/img_0.png", "samples/mixed/img_1.png"]
    assert np.array_equal(np.asarray(Image.open(data_root / rows[1].image)), picture(7))
    assert validate_dataset(data_root, "mixed").valid


BAD_NAMES = ["../escape", "a/b", ".hidden", "", "x" * 65, "sp ace", "-dash", "a\\b"]


def test_bad_dataset_names_are_rejected(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    for name in BAD_NAMES:
        stream = RawStream(recorder.address)
        stream.send(start(name))
        with pytest.raises(grpc.RpcError) as raised:
            stream.next_ack()
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert "name" in raised.value.details()
        stream.channel.close()
    assert sorted(p.name for p in (data_root / "samples").iterdir()) == []


def test_existing_dataset_is_never_overwritten_and_resume_appends(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    streamer = RecordingStreamer(recorder.address, "keep")
    streamer.start()
    for index in (1, 2, 3):
        streamer.offer(sample(index))
    assert streamer.close().written == 3
    before = (data_root / "samples" / "keep" / "data.csv").read_bytes()

    again = RecordingStreamer(recorder.address, "keep")
    again.start()
    with pytest.raises(RecorderUnavailable) as refused:  # at the start of the session, before any frame
        again.wait_started(timeout=10)
    assert refused.value.code == grpc.StatusCode.ALREADY_EXISTS
    again.close(timeout=5)
    assert again.stats.offered == 0
    assert (data_root / "samples" / "keep" / "data.csv").read_bytes() == before

    resumed = RecordingStreamer(recorder.address, "keep", resume=True)
    resumed.start()
    for index in (10, 11):
        resumed.offer(sample(index))
    assert resumed.close().written == 2
    rows, _ = read_rows(data_root / "samples" / "keep" / "data.csv")
    assert [r.image.rsplit("/", 1)[1] for r in rows] == [f"img_{i}.png" for i in range(5)]
    assert np.array_equal(np.asarray(Image.open(data_root / rows[3].image)), picture(10))
    info = json.loads((data_root / "samples" / "keep" / "session.json").read_text())
    assert [s["resume"] for s in info["segments"]] == [False, True]
    assert info["frames_written"] == 5


def test_get_session_reports_live_and_finished_totals(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    channel = make_channel(recorder.address)
    stub = recorder_pb2_grpc.RecorderStub(channel)
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetSession(recorder_pb2.GetSessionRequest(name="nothing"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    stream = RawStream(recorder.address)
    stream.send(start("live"))
    stream.next_ack()
    stream.send(recorder_pb2.RecordRequest(sample=sample(1)))
    assert stream.next_ack().frame_sequence == 1
    live = stub.GetSession(recorder_pb2.GetSessionRequest(name="live"))
    assert live.frames_written == 1 and live.path == "samples/live"
    stream.send(recorder_pb2.RecordRequest(sample=sample(3)))
    stream.finish()
    done = stub.GetSession(recorder_pb2.GetSessionRequest(name="live"))
    assert done.frames_written == 2 and done.frames_received == 2
    assert done.frames_dropped == 1  # sequence 2 never arrived: the client skipped it

    sparse = RawStream(recorder.address)  # e.g. only the frames of manual overrides
    sparse.send(start("sparse", contiguous=False))
    for sequence in (5, 9, 30):
        sparse.send(recorder_pb2.RecordRequest(sample=sample(sequence)))
    final = sparse.finish()[-1]
    assert final.summary.frames_written == 3 and final.summary.frames_dropped == 0
    channel.close()


def test_sigterm_finishes_writing_and_flushes(start_service, data_root):
    recorder = start_recorder(start_service, data_root)
    stream = RawStream(recorder.address)
    stream.send(start("term"))
    stream.next_ack()
    for index in range(1, 31):
        stream.send(recorder_pb2.RecordRequest(sample=sample(index)))
    acked = threading.Event()

    def wait_first() -> None:
        stream.next_ack()
        acked.set()

    waiter = threading.Thread(target=wait_first)
    waiter.start()
    waiter.join(30)
    assert acked.is_set()
    assert recorder.process.terminate() == 0
    with pytest.raises(grpc.RpcError):
        stream.finish()
    report = validate_dataset(data_root, "term")
    assert report.valid, report.problems
    info = json.loads((data_root / "samples" / "term" / "session.json").read_text())
    assert info["ended"] is not None
    assert info["frames_written"] == report.rows
    assert "stopped cleanly" in recorder.process.log()


def test_session_fields_and_end_of_stream_are_typed_and_round_trip(start_service, data_root):
    """capture id and drop counts travel as SessionStart fields; the final count as EndOfStream on the same stream."""
    recorder = start_recorder(start_service, data_root)
    stream = RawStream(recorder.address)
    stream.send(start("typed", capture_id="cap-1", frames_dropped=4))
    assert stream.next_ack().frame_sequence == 0
    for sequence in (1, 2, 5):  # 3 and 4 skipped: two more drops
        stream.send(recorder_pb2.RecordRequest(sample=sample(sequence)))
    for _ in range(3):
        stream.next_ack()
    live = recorder_pb2_grpc.RecorderStub(stream.channel).GetSession(recorder_pb2.GetSessionRequest(name="typed"))
    assert live.frames_dropped == 6
    stream.send(recorder_pb2.RecordRequest(end=recorder_pb2.EndOfStream(frames_dropped=9)))
    final = stream.finish()[-1]
    assert final.final and final.summary.frames_dropped == 9 and final.summary.frames_written == 3
    info = json.loads((data_root / "samples" / "typed" / "session.json").read_text())
    assert info["capture_id"] == "cap-1" and info["frames_dropped"] == 9 and len(info["segments"]) == 1
    assert info["metadata"] == {"source": "test"}  # control data is not stored as metadata

    again = RawStream(recorder.address)  # the same capture reconnecting continues its own count
    again.send(start("typed", resume=True, capture_id="cap-1", frames_dropped=9))
    again.next_ack()
    again.send(recorder_pb2.RecordRequest(end=recorder_pb2.EndOfStream(frames_dropped=10)))
    assert again.finish()[-1].summary.frames_dropped == 10
