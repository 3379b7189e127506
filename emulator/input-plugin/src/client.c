/* One input-bot poll over TCP with a single deadline covering connect, send and read. */
#define _GNU_SOURCE
#include "client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

tk_status tk_resolve(const char *host, int port, tk_target *target, char *why, size_t why_size)
{
    struct addrinfo hints, *found = NULL;
    char service[16];
    int error;
    memset(target, 0, sizeof *target);
    if (port < 1 || port > 65535) {
        tk_explain(why, why_size, "port %d is not a TCP port", port);
        return TK_NO_ADDRESS;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    snprintf(service, sizeof service, "%d", port);
    error = getaddrinfo(host, service, &hints, &found);
    if (error != 0 || found == NULL || found->ai_addrlen > sizeof target->address) {
        tk_explain(why, why_size, "cannot resolve %s: %s", host, error ? gai_strerror(error) : "no address");
        if (found)
            freeaddrinfo(found);
        return TK_NO_ADDRESS;
    }
    memcpy(&target->address, found->ai_addr, found->ai_addrlen);
    target->length = found->ai_addrlen;
    freeaddrinfo(found);
    return TK_OK;
}

/* Wait for `events` on `fd` until `deadline`; 1 ready, 0 timed out, -1 error (errno set).
 * ppoll takes a timespec: the wait ends at the deadline, not at the next whole millisecond. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        long long left = deadline - now_ns();
        struct timespec wait;
        int ready;
        if (left <= 0)
            return 0;
        wait.tv_sec = (time_t)(left / 1000000000LL);
        wait.tv_nsec = (long)(left % 1000000000LL);
        ready = ppoll(&p, 1, &wait, NULL);
        if (ready > 0)
            return 1;
        if (ready < 0 && errno != EINTR)
            return -1;
    }
}

static void abort_connection(int fd)
{
    /* RST instead of FIN: nothing is left behind in TIME_WAIT by an abandoned poll. */
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
}

static tk_status fail(int fd, tk_status status, char *why, size_t why_size, const char *what)
{
    if (status == TK_TIMEOUT)
        tk_explain(why, why_size, "no reply within the timeout (%s)", what);
    else
        tk_explain(why, why_size, "%s: %s", what, strerror(errno));
    abort_connection(fd);
    return status;
}

static tk_status connect_by(int fd, const tk_target *target, long long deadline, char *why, size_t why_size)
{
    int error = 0, ready;
    socklen_t size = sizeof error;
    if (connect(fd, (const struct sockaddr *)&target->address, target->length) == 0)
        return TK_OK;
    if (errno != EINPROGRESS && errno != EINTR)
        return fail(fd, TK_CONNECT_FAILED, why, why_size, "connect");
    ready = wait_for(fd, POLLOUT, deadline);
    if (ready <= 0)
        return fail(fd, ready == 0 ? TK_TIMEOUT : TK_CONNECT_FAILED, why, why_size, "connect");
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) {
        errno = error;
        return fail(fd, TK_CONNECT_FAILED, why, why_size, "connect");
    }
    return TK_OK;
}

static tk_status send_request(int fd, int controller, long long deadline, char *why, size_t why_size)
{
    char request[32];
    int size = snprintf(request, sizeof request, "GET /%d HTTP/1.0\r\n\r\n", controller);
    int sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, request + sent, (size_t)(size - sent), MSG_NOSIGNAL);
        if (n > 0) {
            sent += (int)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return fail(fd, TK_IO_ERROR, why, why_size, "send");
        if (n < 0 && errno != EINTR) {
            int ready = wait_for(fd, POLLOUT, deadline);
            if (ready <= 0)
                return fail(fd, ready == 0 ? TK_TIMEOUT : TK_IO_ERROR, why, why_size, "send");
        }
    }
    return TK_OK;
}

tk_status tk_poll(const tk_target *target, int controller, int timeout_ms, char *buf, size_t capacity, size_t *len,
                  char *why, size_t why_size)
{
    long long deadline = now_ns() + (long long)timeout_ms * 1000000LL;
    int fd, one = 1;
    tk_status status;
    *len = 0;
    if (target->length == 0) {
        tk_explain(why, why_size, "no server address");
        return TK_NO_ADDRESS;
    }
    fd = socket(target->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        tk_explain(why, why_size, "socket: %s", strerror(errno));
        return TK_IO_ERROR;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if ((status = connect_by(fd, target, deadline, why, why_size)) != TK_OK)
        return status;
    if ((status = send_request(fd, controller, deadline, why, why_size)) != TK_OK)
        return status;
    for (;;) {
        ssize_t n;
        int ready;
        if (*len >= capacity) {
            tk_explain(why, why_size, "reply longer than %zu bytes", capacity - 1);
            abort_connection(fd);
            return TK_OVERSIZE;
        }
        n = recv(fd, buf + *len, capacity - *len, 0);
        if (n == 0)
            break; /* the server closed: the reply is complete */
        if (n > 0) {
            *len += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(fd, TK_IO_ERROR, why, why_size, "recv");
        ready = wait_for(fd, POLLIN, deadline);
        if (ready <= 0)
            return fail(fd, ready == 0 ? TK_TIMEOUT : TK_IO_ERROR, why, why_size, "recv");
    }
    close(fd);
    if (*len > capacity - 1) {
        tk_explain(why, why_size, "reply longer than %zu bytes", capacity - 1);
        return TK_OVERSIZE;
    }
    return TK_OK;
}
