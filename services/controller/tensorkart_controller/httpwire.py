"""The input-bot wire format: parsing the plugin's request, building the server's replies.

The plugin (mupen64plus-input-bot controller.c) sends `GET /<0-3> HTTP/1.0\\r\\n\\r\\n` on a
fresh connection, reads until the server closes it (at most 4095 bytes) and parses what
follows the first `\\r\\n\\r\\n` as JSON. Replies are HTTP/1.0 with `Connection: close`.
"""

from __future__ import annotations

import socket

PORTS = 4
MAX_REQUEST_BYTES = 4096
HEADER_END = b"\r\n\r\n"


def response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.0 response, ready to send as it is."""
    head = (
        f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


NOT_FOUND = response("404 Not Found", b'{"error":"unknown path: use /0, /1, /2 or /3"}')
BAD_REQUEST = response("400 Bad Request", b'{"error":"malformed request line"}')
NOT_ALLOWED = response("405 Method Not Allowed", b'{"error":"only GET"}')
TOO_LARGE = response("431 Request Header Fields Too Large", b'{"error":"request too large"}')


def request_complete(data: bytes) -> bool:
    return HEADER_END in data or b"\n\n" in data


def route(data: bytes) -> int | bytes:
    """The controller port (0-3) a complete request asks for, or the error reply to send."""
    # Fast path: exactly what the plugin sends.
    if data[:5] == b"GET /" and data[6:7] in (b" ", b"?") and 48 <= data[5] < 48 + PORTS:
        return data[5] - 48
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    parts = line.split(b" ")
    if len(parts) not in (2, 3) or not parts[1].startswith(b"/"):
        return BAD_REQUEST
    if parts[0] != b"GET":
        return NOT_ALLOWED
    path = parts[1].split(b"?", 1)[0]
    if len(path) == 2 and 48 <= path[1] < 48 + PORTS:
        return path[1] - 48
    return NOT_FOUND


def send_and_close(conn: socket.socket, reply: bytes) -> bool:
    """Send the whole reply and close the connection (the plugin reads until close)."""
    try:
        conn.sendall(reply)
        return True
    except OSError:  # the client went away; nothing to answer
        return False
    finally:
        conn.close()
