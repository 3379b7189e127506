"""Entry point: `python -m tensorkart_recorder` runs the recorder gRPC server (grpc.aio) until SIGTERM.

On SIGTERM/SIGINT the server stops taking new streams, open streams get the grace
period, and every dataset still being written is finished and flushed before exit.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from tensorkart_core.grpc_aio import run_aio_server
from tensorkart_core.grpc_server import Servicer
from tensorkart_core.logs import setup_logging
from tensorkart_core.proto.v1 import recorder_pb2_grpc
from tensorkart_core.settings import load_settings
from tensorkart_recorder.service import RecorderService
from tensorkart_recorder.sessions import SessionRegistry
from tensorkart_recorder.settings import RecorderSettings


def main() -> None:
    settings = load_settings(RecorderSettings)
    log = setup_logging("recorder", settings.log_level)
    settings.data_root.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(max_workers=settings.encode_threads, thread_name_prefix="png")
    # Decoding, back-pressure waits and session files: off the event loop, a thread per busy
    # stream at most, not per open one.
    receive = ThreadPoolExecutor(max_workers=settings.receive_threads, thread_name_prefix="receive")
    sessions = SessionRegistry(settings.data_root, pool, settings.compress_level, settings.max_pending, settings.fsync)
    service = RecorderService(sessions, receive, settings.max_streams)
    servicer = Servicer(recorder_pb2_grpc.add_RecorderServicer_to_server, service, "tensorkart.v1.Recorder")

    def finish_writing() -> None:
        if not sessions.wait_all_closed(timeout=30.0):
            logging.getLogger("recorder").error("some datasets were still being written at exit")
        receive.shutdown(wait=True)
        pool.shutdown(wait=True)

    log.info("recorder: data root %s", settings.data_root.resolve())
    run_aio_server("recorder", settings, [servicer], on_stop=[finish_writing])


if __name__ == "__main__":
    main()
