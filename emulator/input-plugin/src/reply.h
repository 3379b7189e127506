/* A strict, bounded parser for input-bot replies: an HTTP/1.x 200 response whose body is a
 * JSON object of integers. It never reads past `len`, allocates nothing and keeps no state,
 * so it can be unit-tested and fuzzed on its own. */
#ifndef TK_REPLY_H
#define TK_REPLY_H

#include <stddef.h>

#include "status.h"

/* The stock plugin keeps at most 4095 bytes of a reply; a longer one is malformed here. */
#define TK_MAX_REPLY 4095
/* N64 stick units: a signed byte, but a real stick only reaches about +-80. */
#define TK_STICK_LIMIT 80

/* Pad keys in the bit order of mupen64plus's BUTTONS union (m64p_plugin.h). */
enum {
    TK_R_DPAD, TK_L_DPAD, TK_D_DPAD, TK_U_DPAD, TK_START_BUTTON, TK_Z_TRIG, TK_B_BUTTON, TK_A_BUTTON,
    TK_R_CBUTTON, TK_L_CBUTTON, TK_D_CBUTTON, TK_U_CBUTTON, TK_R_TRIG, TK_L_TRIG,
    TK_BUTTON_COUNT
};

typedef struct {
    unsigned buttons; /* bit TK_<key> set when that button is pressed */
    int x_axis;       /* clamped to +-TK_STICK_LIMIT */
    int y_axis;
} tk_pad;

/* Parse `len` bytes of a complete reply into `pad`. On any error `pad` is neutral (all zero)
 * and, when `why` is not NULL, a short NUL-terminated explanation is written there. */
tk_status tk_parse_reply(const char *buf, size_t len, tk_pad *pad, char *why, size_t why_size);

#endif
