"""The shared frame feed (tensorkart_core.frame_feed) over real loopback gRPC: in lock-step every
message reaches every subscriber in order, whatever frame numbers they carry (the emulator's last
message has no frame at all); a run's end reaches each subscriber and ends its stream."""

from __future__ import annotations

import threading
from concurrent import futures

import grpc

from tensorkart_core.frame_feed import FeedServicer, FrameFeed
from tensorkart_core.proto.v1 import simulator_pb2, simulator_pb2_grpc, types_pb2


def message(sequence: int, game_frame: int) -> simulator_pb2.SimFrame:
    return simulator_pb2.SimFrame(frame=types_pb2.Frame(sequence=sequence, game_frame=game_frame, width=1, height=1))


def test_lockstep_delivers_every_message_to_every_subscriber() -> None:
    feed = FrameFeed(lockstep=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    simulator_pb2_grpc.add_SimulatorServicer_to_server(FeedServicer(feed), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    received: dict[int, list[simulator_pb2.SimFrame]] = {0: [], 1: []}
    ready = threading.Barrier(3)

    def subscribe(ident: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stream = simulator_pb2_grpc.SimulatorStub(channel).StreamFrames(
                simulator_pb2.StreamFramesRequest(), timeout=60
            )
            ready.wait(30)
            received[ident].extend(stream)

    readers = [threading.Thread(target=subscribe, args=(ident,), daemon=True) for ident in received]
    for reader in readers:
        reader.start()
    ready.wait(30)
    stop = threading.Event()
    while feed.subscriber_count() < 2:
        assert feed.wait_for_subscriber(stop)
    # Frame numbers that repeat (a savestate reloaded) and a last message without a frame: the feed
    # numbers messages itself, so lock-step still waits for each and the end still arrives.
    for sequence, game_frame in enumerate([7, 7, 8, 3]):
        feed.publish(message(sequence, game_frame), stop)
    feed.publish(simulator_pb2.SimFrame(finished=True), stop)
    for reader in readers:
        reader.join(30)
        assert not reader.is_alive()
    feed.close()
    server.stop(None)

    for messages in received.values():
        assert [m.frame.sequence for m in messages[:-1]] == [0, 1, 2, 3]
        assert [m.frame.game_frame for m in messages[:-1]] == [7, 7, 8, 3]
        assert messages[-1].finished and not messages[-1].HasField("frame")
    assert feed.total_dropped == 0
