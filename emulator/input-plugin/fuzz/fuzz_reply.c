/* libFuzzer target for the reply parser: any bytes in, a status out, never a read past the
 * buffer (ASan) or undefined behaviour (UBSan), and a neutral pad whenever it is not OK. */
#include <stdint.h>
#include <stdlib.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tk_pad pad;
    char why[128];
    tk_status status = tk_parse_reply((const char *)data, size, &pad, why, sizeof why);
    if (status != TK_OK && (pad.buttons != 0 || pad.x_axis != 0 || pad.y_axis != 0))
        abort();
    if (status == TK_OK && (pad.x_axis > TK_STICK_LIMIT || pad.x_axis < -TK_STICK_LIMIT ||
                            pad.y_axis > TK_STICK_LIMIT || pad.y_axis < -TK_STICK_LIMIT ||
                            pad.buttons >> TK_BUTTON_COUNT))
        abort();
    return 0;
}
