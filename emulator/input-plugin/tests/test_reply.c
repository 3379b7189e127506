/* Unit tests of the reply parser, built and run under AddressSanitizer + UBSan (make test).
 * Every case is copied into a heap buffer of exactly its length, so a read past the end is
 * an ASan error, not a silent pass. Files given on the command line (the fuzz seed corpus)
 * are parsed too: each must come back neutral or OK without a sanitizer report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

static int failures;

static tk_status parse_exact(const char *data, size_t len, tk_pad *pad)
{
    char *copy = malloc(len ? len : 1);
    char why[128];
    tk_status status;
    memcpy(copy, data, len);
    status = tk_parse_reply(copy, len, pad, why, sizeof why);
    free(copy);
    return status;
}

static void expect(int line, const char *reply, tk_status want, unsigned buttons, int x, int y)
{
    tk_pad pad;
    tk_status got = parse_exact(reply, strlen(reply), &pad);
    if (got != want || pad.buttons != buttons || pad.x_axis != x || pad.y_axis != y) {
        fprintf(stderr, "line %d: got %s buttons=%#x x=%d y=%d, want %s buttons=%#x x=%d y=%d\n", line,
                tk_status_name(got), pad.buttons, pad.x_axis, pad.y_axis, tk_status_name(want), buttons, x, y);
        failures++;
    }
}

#define OK_HEAD "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
#define OK(body, buttons, x, y) expect(__LINE__, OK_HEAD body, TK_OK, buttons, x, y)
#define BAD(reply, status) expect(__LINE__, reply, status, 0, 0, 0)
#define BIT(key) (1u << TK_##key)

static void test_valid(void)
{
    OK("{\"START_BUTTON\":0,\"Z_TRIG\":0,\"B_BUTTON\":0,\"A_BUTTON\":1,\"R_TRIG\":0,\"L_TRIG\":0,"
       "\"R_CBUTTON\":0,\"L_CBUTTON\":0,\"D_CBUTTON\":0,\"U_CBUTTON\":0,\"R_DPAD\":0,\"L_DPAD\":0,"
       "\"D_DPAD\":0,\"U_DPAD\":0,\"X_AXIS\":-80,\"Y_AXIS\":40}",
       BIT(A_BUTTON), -80, 40);
    OK("{}", 0, 0, 0);
    OK(" { \"X_AXIS\" : 12 ,\n\t\"B_BUTTON\":1 } \r\n", BIT(B_BUTTON), 12, 0);
    OK("{\"R_DPAD\":1,\"L_TRIG\":1,\"START_BUTTON\":1}", BIT(R_DPAD) | BIT(L_TRIG) | BIT(START_BUTTON), 0, 0);
    OK("{\"X_AXIS\":127,\"Y_AXIS\":-128}", 0, 80, -80); /* a signed byte, clamped to the stick's +-80 */
    OK("{\"X_AXIS\":-0,\"Y_AXIS\":0}", 0, 0, 0);
    OK("{\"UNKNOWN\":5,\"A_BUTTON\":1}", BIT(A_BUTTON), 0, 0); /* unknown integer keys are ignored */
    expect(__LINE__, "HTTP/1.1 200\r\n\r\n{\"A_BUTTON\":1}", TK_OK, BIT(A_BUTTON), 0, 0);
}

static void test_malformed(void)
{
    BAD("{\"A_BUTTON\":1}", TK_NO_HEADER_END);
    BAD("", TK_NO_HEADER_END);
    BAD("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n", TK_NO_HEADER_END);
    BAD("HTTP/1.0 200 OK\nContent-Type: application/json\n\n{\"A_BUTTON\":1}", TK_LF_ONLY_HEADERS);
    BAD("HTTP/1.0 404 Not Found\r\n\r\n{\"error\":\"x\"}", TK_BAD_STATUS);
    BAD("HTTP/1.0 2000 OK\r\n\r\n{}", TK_BAD_STATUS);
    BAD("ICY 200 OK\r\n\r\n{}", TK_BAD_STATUS);
    BAD("\r\n\r\n{}", TK_BAD_STATUS);
    BAD(OK_HEAD, TK_NOT_JSON);
    BAD(OK_HEAD "not json", TK_NOT_JSON);
    BAD(OK_HEAD "[1,2]", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUTTON\":1", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUTTON\":1,}", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUTTON\" 1}", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUTTON\":1}{}", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUT", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_\\u0042UTTON\":1}", TK_NOT_JSON);
    BAD(OK_HEAD "{A_BUTTON:1}", TK_NOT_JSON);
    BAD(OK_HEAD "{\"A_BUTTON\":\"1\"}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"A_BUTTON\":true}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":1.5}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":1e2}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":-}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":01}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":null}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"X_AXIS\":", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"UNKNOWN\":[1]}", TK_NOT_INTEGER);
    BAD(OK_HEAD "{\"A_BUTTON\":1,\"A_BUTTON\":0}", TK_DUPLICATE_KEY);
    BAD(OK_HEAD "{\"A_BUTTON\":2}", TK_OUT_OF_RANGE);
    BAD(OK_HEAD "{\"A_BUTTON\":-1}", TK_OUT_OF_RANGE);
    BAD(OK_HEAD "{\"X_AXIS\":200}", TK_OUT_OF_RANGE);
    BAD(OK_HEAD "{\"Y_AXIS\":-129}", TK_OUT_OF_RANGE);
    BAD(OK_HEAD "{\"X_AXIS\":99999999999999999999999}", TK_OUT_OF_RANGE);
}

static void test_oversize(void)
{
    size_t len = TK_MAX_REPLY + 1;
    char *big = malloc(len);
    tk_pad pad;
    memset(big, ' ', len);
    memcpy(big, OK_HEAD "{}", strlen(OK_HEAD "{}"));
    if (parse_exact(big, len, &pad) != TK_OVERSIZE) {
        fprintf(stderr, "oversize reply not rejected\n");
        failures++;
    }
    if (parse_exact(big, len - 1, &pad) != TK_OK) { /* exactly the limit, padded with spaces */
        fprintf(stderr, "reply of exactly %d bytes rejected\n", TK_MAX_REPLY);
        failures++;
    }
    free(big);
}

/* Every prefix of a valid reply: no read past the end, never OK unless complete. */
static void test_prefixes(void)
{
    const char *full = OK_HEAD "{\"A_BUTTON\":1,\"X_AXIS\":-80}";
    size_t n = strlen(full);
    for (size_t i = 0; i < n; i++) {
        tk_pad pad;
        if (parse_exact(full, i, &pad) == TK_OK && i + 1 < n) {
            fprintf(stderr, "prefix of %zu bytes parsed as OK\n", i);
            failures++;
        }
    }
}

static void test_files(int count, char **paths)
{
    for (int i = 0; i < count; i++) {
        FILE *file = fopen(paths[i], "rb");
        char data[TK_MAX_REPLY + 2];
        size_t len;
        tk_pad pad;
        if (file == NULL) {
            perror(paths[i]);
            failures++;
            continue;
        }
        len = fread(data, 1, sizeof data, file);
        fclose(file);
        tk_status status = parse_exact(data, len, &pad);
        if (status != TK_OK && (pad.buttons || pad.x_axis || pad.y_axis)) {
            fprintf(stderr, "%s: %s but the pad is not neutral\n", paths[i], tk_status_name(status));
            failures++;
        }
        printf("%-40s %s\n", paths[i], tk_status_name(status));
    }
}

int main(int argc, char **argv)
{
    test_valid();
    test_malformed();
    test_oversize();
    test_prefixes();
    test_files(argc - 1, argv + 1);
    if (failures) {
        fprintf(stderr, "%d reply parser check(s) failed\n", failures);
        return 1;
    }
    printf("reply parser: all checks passed\n");
    return 0;
}
