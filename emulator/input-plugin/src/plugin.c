/* tensorkart-input: a mupen64plus input plugin (input API 2.1) that asks an input-bot HTTP
 * server (the TensorKart controller, or any other) for each pad state the game polls.
 *
 * Wire-compatible with kevinhughes27/mupen64plus-input-bot (same protocol, same config keys
 * Input-Bot-Control<N>[plugged|host|port]) plus Input-Bot-Control<N>[timeout_ms]: every poll
 * is bounded by that deadline, and anything other than a well-formed reply gives a neutral
 * pad and a rate-limited log line instead of a crash or a hang. */
#define M64P_PLUGIN_PROTOTYPES 1
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>

#include "m64p_common.h"
#include "m64p_config.h"
#include "m64p_plugin.h"
#include "m64p_types.h"

#include "client.h"
#include "reply.h"

#define PLUGIN_NAME "TensorKart input-bot plugin (tensorkart-input)"
#define PLUGIN_VERSION 0x010000
#define INPUT_PLUGIN_API_VERSION 0x020100 /* what 2.5.9+ cores require */
#define CONTROLLERS 4
#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 8082
/* The whole poll (connect + request + reply). Our controller answers in well under 1 ms on
 * loopback and a LAN adds about one round trip; 10 ms keeps a dead or silent server from
 * costing more than part of one 60 Hz video frame (16.7 ms) per poll. */
#define DEFAULT_TIMEOUT_MS 10
#define MAX_TIMEOUT_MS 10000
#define LOG_INTERVAL_NS 1000000000LL /* at most one failure line per controller per second */

typedef struct {
    CONTROL *control;
    int plugged;
    char host[256];
    int port;
    int timeout_ms;
    tk_target target;
    long long next_log_ns;
    unsigned long suppressed; /* failure lines not written since the last one */
    unsigned long failing;    /* consecutive neutral polls */
    int streak_logged;        /* a failure line was written during the current streak */
} controller;

static controller l_controllers[CONTROLLERS];
static void (*l_debug)(void *, int, const char *);
static void *l_debug_context;
static ptr_ConfigOpenSection l_open_section;
static ptr_ConfigGetParameter l_get_parameter;
static ptr_ConfigGetParameterType l_get_type;
static int l_started;

static void debug(int level, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (l_debug != NULL)
        l_debug(l_debug_context, level, message);
    else
        fprintf(stderr, "tensorkart-input: %s\n", message);
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A string config value; 0 when the section or key is absent or is not a string. */
static int get_string(m64p_handle section, const char *key, char *value, int size)
{
    m64p_type type;
    return section != NULL && l_get_type(section, key, &type) == M64ERR_SUCCESS && type == M64TYPE_STRING &&
           l_get_parameter(section, key, M64TYPE_STRING, value, size) == M64ERR_SUCCESS;
}

/* An integer config value in [low, high], else `fallback` (with a warning when it is set but
 * unusable). Accepts int and bool parameters, and strings holding a whole decimal number or
 * True/False: `mupen64plus --set` stores keys it does not know yet as strings. */
static int get_int(m64p_handle section, int index, const char *key, int low, int high, int fallback)
{
    char text[64], *end = NULL;
    m64p_type type;
    long value = 0;
    int number = 0, ok = 0;
    if (section == NULL || l_get_type(section, key, &type) != M64ERR_SUCCESS)
        return fallback;
    if ((type == M64TYPE_INT || type == M64TYPE_BOOL) &&
        l_get_parameter(section, key, M64TYPE_INT, &number, sizeof number) == M64ERR_SUCCESS) {
        value = number;
        snprintf(text, sizeof text, "%d", number);
        ok = 1;
    } else if (type == M64TYPE_STRING && l_get_parameter(section, key, M64TYPE_STRING, text, sizeof text) == M64ERR_SUCCESS) {
        if (strcmp(text, "True") == 0 || strcmp(text, "true") == 0) {
            value = 1;
            ok = 1;
        } else if (strcmp(text, "False") == 0 || strcmp(text, "false") == 0) {
            value = 0;
            ok = 1;
        } else {
            errno = 0;
            value = strtol(text, &end, 10);
            ok = errno == 0 && end != text && *end == '\0';
        }
    } else {
        snprintf(text, sizeof text, "(a value of type %d)", (int)type);
    }
    if (!ok || value < low || value > high) {
        debug(M64MSG_WARNING, "Input-Bot-Control%d[%s]=%s is not an integer in %d..%d; using %d", index, key, text, low,
              high, fallback);
        return fallback;
    }
    return (int)value;
}

/* Read Input-Bot-Control<index> and resolve its server once. */
static void configure(int index)
{
    controller *c = &l_controllers[index];
    char section_name[32];
    m64p_handle section = NULL;
    char why[160];
    snprintf(section_name, sizeof section_name, "Input-Bot-Control%d", index);
    if (l_open_section(section_name, &section) != M64ERR_SUCCESS)
        section = NULL;
    /* As input-bot: without a `plugged` key only controller 0 is plugged in. */
    c->plugged = get_int(section, index, "plugged", 0, 1, index == 0);
    if (!get_string(section, "host", c->host, sizeof c->host) || c->host[0] == '\0')
        snprintf(c->host, sizeof c->host, "%s", DEFAULT_HOST);
    c->port = get_int(section, index, "port", 1, 65535, DEFAULT_PORT);
    c->timeout_ms = get_int(section, index, "timeout_ms", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
    c->next_log_ns = 0;
    c->suppressed = c->failing = 0;
    c->streak_logged = 0;
    memset(&c->target, 0, sizeof c->target);
    if (!c->plugged)
        return;
    if (tk_resolve(c->host, c->port, &c->target, why, sizeof why) != TK_OK)
        debug(M64MSG_ERROR, "controller %d: %s; its pad stays neutral", index, why);
    else
        debug(M64MSG_INFO, "controller %d: input-bot server %s:%d, timeout %d ms", index, c->host, c->port,
              c->timeout_ms);
}

static void note_failure(int index, tk_status status, const char *why)
{
    controller *c = &l_controllers[index];
    long long now = now_ns();
    c->failing++;
    if (now < c->next_log_ns) {
        c->suppressed++;
        return;
    }
    debug(M64MSG_WARNING, "controller %d: neutral pad: %s (%s); %lu similar lines suppressed", index,
          tk_status_name(status), why, c->suppressed);
    c->suppressed = 0;
    c->next_log_ns = now + LOG_INTERVAL_NS;
    c->streak_logged = 1;
}

static void note_success(int index)
{
    controller *c = &l_controllers[index];
    if (c->failing == 0)
        return;
    /* One line per logged failure streak: a server that flaps still writes at most two lines
     * a second. */
    if (c->streak_logged)
        debug(M64MSG_INFO, "controller %d: replies valid again after %lu neutral polls", index, c->failing);
    c->failing = 0;
    c->streak_logged = 0;
}

static void fill(BUTTONS *keys, const tk_pad *pad)
{
    keys->Value = 0;
#define KEY(name) keys->name = (pad->buttons >> TK_##name) & 1u
    KEY(R_DPAD);
    KEY(L_DPAD);
    KEY(D_DPAD);
    KEY(U_DPAD);
    KEY(START_BUTTON);
    KEY(Z_TRIG);
    KEY(B_BUTTON);
    KEY(A_BUTTON);
    KEY(R_CBUTTON);
    KEY(L_CBUTTON);
    KEY(D_CBUTTON);
    KEY(U_CBUTTON);
    KEY(R_TRIG);
    KEY(L_TRIG);
#undef KEY
    keys->X_AXIS = pad->x_axis;
    keys->Y_AXIS = pad->y_axis;
}

EXPORT m64p_error CALL PluginStartup(m64p_dynlib_handle core, void *context, void (*callback)(void *, int, const char *))
{
    if (l_started)
        return M64ERR_ALREADY_INIT;
    l_debug = callback;
    l_debug_context = context;
    if (core == NULL) {
        debug(M64MSG_ERROR, "no core library handle");
        return M64ERR_INPUT_INVALID;
    }
    l_open_section = (ptr_ConfigOpenSection)dlsym(core, "ConfigOpenSection");
    l_get_parameter = (ptr_ConfigGetParameter)dlsym(core, "ConfigGetParameter");
    l_get_type = (ptr_ConfigGetParameterType)dlsym(core, "ConfigGetParameterType");
    if (l_open_section == NULL || l_get_parameter == NULL || l_get_type == NULL) {
        debug(M64MSG_ERROR, "the core has no config API (ConfigOpenSection, ConfigGetParameter[Type])");
        return M64ERR_INCOMPATIBLE;
    }
    memset(l_controllers, 0, sizeof l_controllers);
    l_started = 1;
    debug(M64MSG_INFO, "%s %d.%d.%d started", PLUGIN_NAME, PLUGIN_VERSION >> 16, (PLUGIN_VERSION >> 8) & 0xff,
          PLUGIN_VERSION & 0xff);
    return M64ERR_SUCCESS;
}

EXPORT m64p_error CALL PluginShutdown(void)
{
    if (!l_started)
        return M64ERR_NOT_INIT;
    memset(l_controllers, 0, sizeof l_controllers);
    l_started = 0;
    return M64ERR_SUCCESS;
}

EXPORT m64p_error CALL PluginGetVersion(m64p_plugin_type *type, int *version, int *api_version, const char **name,
                                        int *capabilities)
{
    if (type != NULL)
        *type = M64PLUGIN_INPUT;
    if (version != NULL)
        *version = PLUGIN_VERSION;
    if (api_version != NULL)
        *api_version = INPUT_PLUGIN_API_VERSION;
    if (name != NULL)
        *name = PLUGIN_NAME;
    if (capabilities != NULL)
        *capabilities = 0;
    return M64ERR_SUCCESS;
}

EXPORT void CALL InitiateControllers(CONTROL_INFO info)
{
    if (!l_started || info.Controls == NULL)
        return;
    for (int i = 0; i < CONTROLLERS; i++) {
        controller *c = &l_controllers[i];
        configure(i);
        c->control = &info.Controls[i];
        c->control->Present = c->plugged;
        c->control->RawData = 0;
        c->control->Plugin = PLUGIN_NONE;
        c->control->Type = CONT_TYPE_STANDARD;
    }
}

EXPORT void CALL GetKeys(int index, BUTTONS *keys)
{
    char reply[TK_MAX_REPLY + 1], why[160];
    size_t length = 0;
    tk_pad pad;
    tk_status status;
    if (keys == NULL)
        return;
    keys->Value = 0;
    if (!l_started || index < 0 || index >= CONTROLLERS || !l_controllers[index].plugged)
        return;
    status = tk_poll(&l_controllers[index].target, index, l_controllers[index].timeout_ms, reply, sizeof reply, &length,
                     why, sizeof why);
    if (status == TK_OK)
        status = tk_parse_reply(reply, length, &pad, why, sizeof why);
    if (status != TK_OK) {
        note_failure(index, status, why);
        return;
    }
    note_success(index);
    fill(keys, &pad);
}

EXPORT void CALL ControllerCommand(int index, unsigned char *command)
{
    (void)index;
    (void)command;
}

EXPORT void CALL ReadController(int index, unsigned char *command)
{
    (void)index;
    (void)command;
}

EXPORT int CALL RomOpen(void) { return 1; }

EXPORT void CALL RomClosed(void) {}

EXPORT void CALL SDL_KeyDown(int keymod, int keysym)
{
    (void)keymod;
    (void)keysym;
}

EXPORT void CALL SDL_KeyUp(int keymod, int keysym)
{
    (void)keymod;
    (void)keysym;
}
