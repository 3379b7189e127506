/* Strict, bounded parsing of one input-bot reply (see reply.h). Every read goes through a
 * cursor that checks `pos < len` first; nothing here can read past the buffer. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest key we look at; longer keys are not pad keys and are malformed. */
#define MAX_KEY 32
/* More digits than this cannot be a valid value (and cannot overflow a long long). */
#define MAX_DIGITS 9

static const char *const BUTTON_KEYS[TK_BUTTON_COUNT] = {
    "R_DPAD",    "L_DPAD",    "D_DPAD",    "U_DPAD",    "START_BUTTON", "Z_TRIG", "B_BUTTON", "A_BUTTON",
    "R_CBUTTON", "L_CBUTTON", "D_CBUTTON", "U_CBUTTON", "R_TRIG",       "L_TRIG",
};

typedef struct {
    const char *buf;
    size_t len;
    size_t pos;
} cursor;

static int at_end(const cursor *c) { return c->pos >= c->len; }

static int peek(const cursor *c) { return at_end(c) ? -1 : (unsigned char)c->buf[c->pos]; }

static void skip_space(cursor *c)
{
    for (int ch = peek(c); ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; ch = peek(c))
        c->pos++;
}

/* Index of the first occurrence of `needle` in buf[0, len), or -1. */
static long find(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return (long)i;
    return -1;
}

/* "HTTP/1.<digit> 200" at the start of the head. */
static tk_status check_status_line(const char *head, size_t len, char *why, size_t why_size)
{
    static const char prefix[] = "HTTP/1.";
    size_t p = sizeof prefix - 1;
    if (len < p + 5 || memcmp(head, prefix, p) != 0 || head[p] < '0' || head[p] > '9' || head[p + 1] != ' ') {
        tk_explain(why, why_size, "no HTTP/1.x status line");
        return TK_BAD_STATUS;
    }
    if (memcmp(head + p + 2, "200", 3) != 0 || (len > p + 5 && head[p + 5] != ' ' && head[p + 5] != '\r')) {
        tk_explain(why, why_size, "status %.3s, not 200", head + p + 2);
        return TK_BAD_STATUS;
    }
    return TK_OK;
}

/* A key: '"' then printable ASCII other than '"' and '\\', then '"'. */
static tk_status read_key(cursor *c, char key[MAX_KEY + 1], char *why, size_t why_size)
{
    size_t n = 0;
    if (peek(c) != '"') {
        tk_explain(why, why_size, "expected a key at body offset %zu", c->pos);
        return TK_NOT_JSON;
    }
    c->pos++;
    for (;;) {
        int ch = peek(c);
        if (ch == '"')
            break;
        if (ch < 0x20 || ch > 0x7e || ch == '\\' || n == MAX_KEY) {
            tk_explain(why, why_size, "unsupported key at body offset %zu", c->pos);
            return TK_NOT_JSON;
        }
        key[n++] = (char)ch;
        c->pos++;
    }
    c->pos++;
    key[n] = '\0';
    return TK_OK;
}

/* A JSON integer: -?(0|[1-9][0-9]*), not followed by a fraction or exponent. */
static tk_status read_integer(cursor *c, const char *key, long long *value, char *why, size_t why_size)
{
    int negative = 0, digits = 0;
    long long magnitude = 0;
    if (peek(c) == '-') {
        negative = 1;
        c->pos++;
    }
    if (peek(c) < '0' || peek(c) > '9') {
        tk_explain(why, why_size, "%s is not an integer", key);
        return TK_NOT_INTEGER;
    }
    if (peek(c) == '0') {
        c->pos++;
        digits = 1;
        if (peek(c) >= '0' && peek(c) <= '9') {
            tk_explain(why, why_size, "%s has a leading zero", key);
            return TK_NOT_INTEGER;
        }
    }
    while (peek(c) >= '0' && peek(c) <= '9') {
        if (++digits > MAX_DIGITS) {
            tk_explain(why, why_size, "%s is out of range", key);
            return TK_OUT_OF_RANGE;
        }
        magnitude = magnitude * 10 + (peek(c) - '0');
        c->pos++;
    }
    if (peek(c) == '.' || peek(c) == 'e' || peek(c) == 'E') {
        tk_explain(why, why_size, "%s is not an integer", key);
        return TK_NOT_INTEGER;
    }
    *value = negative ? -magnitude : magnitude;
    return TK_OK;
}

/* Store one key's value into the pad; unknown keys are accepted and ignored. */
static tk_status apply(tk_pad *pad, unsigned *seen, const char *key, long long value, char *why, size_t why_size)
{
    int slot = -1;
    for (int i = 0; i < TK_BUTTON_COUNT; i++)
        if (strcmp(key, BUTTON_KEYS[i]) == 0)
            slot = i;
    if (strcmp(key, "X_AXIS") == 0)
        slot = TK_BUTTON_COUNT;
    if (strcmp(key, "Y_AXIS") == 0)
        slot = TK_BUTTON_COUNT + 1;
    if (slot < 0)
        return TK_OK;
    if (*seen & (1u << slot)) {
        tk_explain(why, why_size, "%s appears twice", key);
        return TK_DUPLICATE_KEY;
    }
    *seen |= 1u << slot;
    if (slot < TK_BUTTON_COUNT) {
        if (value != 0 && value != 1) {
            tk_explain(why, why_size, "%s=%lld is not 0 or 1", key, value);
            return TK_OUT_OF_RANGE;
        }
        pad->buttons |= (unsigned)value << slot;
        return TK_OK;
    }
    if (value < -128 || value > 127) {
        tk_explain(why, why_size, "%s=%lld is outside a signed byte", key, value);
        return TK_OUT_OF_RANGE;
    }
    if (value > TK_STICK_LIMIT)
        value = TK_STICK_LIMIT;
    if (value < -TK_STICK_LIMIT)
        value = -TK_STICK_LIMIT;
    if (slot == TK_BUTTON_COUNT)
        pad->x_axis = (int)value;
    else
        pad->y_axis = (int)value;
    return TK_OK;
}

static tk_status parse_body(cursor *c, tk_pad *pad, char *why, size_t why_size)
{
    unsigned seen = 0;
    skip_space(c);
    if (peek(c) != '{') {
        tk_explain(why, why_size, "body is not a JSON object");
        return TK_NOT_JSON;
    }
    c->pos++;
    skip_space(c);
    if (peek(c) == '}') {
        c->pos++;
    } else {
        for (;;) {
            char key[MAX_KEY + 1];
            long long value = 0;
            tk_status status;
            skip_space(c);
            if ((status = read_key(c, key, why, why_size)) != TK_OK)
                return status;
            skip_space(c);
            if (peek(c) != ':') {
                tk_explain(why, why_size, "expected ':' after %s", key);
                return TK_NOT_JSON;
            }
            c->pos++;
            skip_space(c);
            if ((status = read_integer(c, key, &value, why, why_size)) != TK_OK)
                return status;
            if ((status = apply(pad, &seen, key, value, why, why_size)) != TK_OK)
                return status;
            skip_space(c);
            if (peek(c) == ',') {
                c->pos++;
                continue;
            }
            if (peek(c) == '}') {
                c->pos++;
                break;
            }
            tk_explain(why, why_size, "expected ',' or '}' at body offset %zu", c->pos);
            return TK_NOT_JSON;
        }
    }
    skip_space(c);
    if (!at_end(c)) {
        tk_explain(why, why_size, "data after the JSON object");
        return TK_NOT_JSON;
    }
    return TK_OK;
}

tk_status tk_parse_reply(const char *buf, size_t len, tk_pad *pad, char *why, size_t why_size)
{
    tk_status status;
    long head_end;
    memset(pad, 0, sizeof *pad);
    tk_explain(why, why_size, "ok");
    if (len > TK_MAX_REPLY) {
        tk_explain(why, why_size, "reply of %zu bytes (limit %d)", len, TK_MAX_REPLY);
        return TK_OVERSIZE;
    }
    head_end = find(buf, len, "\r\n\r\n");
    if (head_end < 0) {
        if (find(buf, len, "\n\n") >= 0) {
            tk_explain(why, why_size, "headers end with LF only");
            return TK_LF_ONLY_HEADERS;
        }
        tk_explain(why, why_size, "no blank line after the headers");
        return TK_NO_HEADER_END;
    }
    status = check_status_line(buf, (size_t)head_end, why, why_size);
    if (status == TK_OK) {
        cursor body = {buf + head_end + 4, len - (size_t)head_end - 4, 0};
        status = parse_body(&body, pad, why, why_size);
    }
    if (status != TK_OK)
        memset(pad, 0, sizeof *pad);
    return status;
}

void tk_explain(char *why, size_t why_size, const char *format, ...)
{
    va_list args;
    if (why == NULL || why_size == 0)
        return;
    va_start(args, format);
    vsnprintf(why, why_size, format, args);
    va_end(args);
}

const char *tk_status_name(tk_status status)
{
    static const char *const names[TK_STATUS_COUNT] = {
        "ok",           "no address",     "connect failed", "timeout",   "i/o error",
        "oversize",     "no header end",  "LF-only headers", "bad status", "not JSON",
        "not integer",  "duplicate key",  "out of range",
    };
    return (unsigned)status < TK_STATUS_COUNT ? names[status] : "unknown";
}
