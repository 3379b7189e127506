/* What one poll of an input-bot server came to: OK, or the reason the pad is neutral. */
#ifndef TK_STATUS_H
#define TK_STATUS_H

#include <stddef.h>

typedef enum {
    TK_OK = 0,
    /* the server could not be asked */
    TK_NO_ADDRESS,       /* host did not resolve, or the port is invalid */
    TK_CONNECT_FAILED,   /* refused, unreachable, ... */
    TK_TIMEOUT,          /* no complete reply within the poll's time budget */
    TK_IO_ERROR,         /* send/recv failed */
    /* the reply was malformed */
    TK_OVERSIZE,         /* more than TK_MAX_REPLY bytes */
    TK_NO_HEADER_END,    /* no "\r\n\r\n" at all */
    TK_LF_ONLY_HEADERS,  /* headers ended by "\n\n" instead of "\r\n\r\n" */
    TK_BAD_STATUS,       /* no "HTTP/1.x 200" status line */
    TK_NOT_JSON,         /* body is not one JSON object */
    TK_NOT_INTEGER,      /* a value is not a JSON integer */
    TK_DUPLICATE_KEY,    /* a pad key appears twice */
    TK_OUT_OF_RANGE,     /* button not 0/1, stick outside a signed byte */
    TK_STATUS_COUNT
} tk_status;

const char *tk_status_name(tk_status status);

/* Write the printf-style reason into why[0, why_size) (nothing when why is NULL or empty). */
void tk_explain(char *why, size_t why_size, const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
