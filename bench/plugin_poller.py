"""A stand-in for the input-bot plugin in its own process (as in the emulator): for every
`poll` line on stdin it opens a connection to the controller, sends the plugin's request,
prints `sent`, reads until the server closes, then prints the monotonic time of the reply."""

from __future__ import annotations

import socket
import sys
import time


def main(port: int) -> None:
    for line in sys.stdin:
        if line.strip() != "poll":
            return
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(b"GET /0 HTTP/1.0\r\n\r\n")
            print("sent", flush=True)
            while sock.recv(4096):
                pass
            print(time.monotonic_ns(), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
