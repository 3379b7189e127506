/* One input-bot poll over TCP, bounded by a deadline: connect, send the request, read the
 * reply until the server closes. Non-blocking sockets and poll(2) only; no signals. */
#ifndef TK_CLIENT_H
#define TK_CLIENT_H

#include <stddef.h>
#include <sys/socket.h>

#include "status.h"

typedef struct {
    struct sockaddr_storage address;
    socklen_t length; /* 0 = no usable address: every poll is neutral */
} tk_target;

/* Resolve host:port once (getaddrinfo, TCP). On failure `target->length` is 0. */
tk_status tk_resolve(const char *host, int port, tk_target *target, char *why, size_t why_size);

/* Ask `target` for controller `controller`'s pad: `GET /<controller> HTTP/1.0\r\n\r\n` on a new
 * connection, then read until the server closes. At most `timeout_ms` in all. The reply is
 * stored in buf[0, *len); more than `capacity - 1` bytes is TK_OVERSIZE. */
tk_status tk_poll(const tk_target *target, int controller, int timeout_ms, char *buf, size_t capacity, size_t *len,
                  char *why, size_t why_size);

#endif
