/*
 * Level-checked logging on stderr.
 *
 * Each line carries a journald priority prefix ("<3>" .. "<7>") when stderr is
 * not a terminal (systemd turns it into the entry's priority), and a local
 * timestamp with a level name when it is. The level is checked before any
 * argument is formatted, so debug calls cost one comparison when disabled.
 * With storyd.log_format = json each entry is one JSON object instead. Only the loop thread
 * logs; librdkafka's threads hand their lines to the loop.
 */
#ifndef SD_COMMON_LOG_H
#define SD_COMMON_LOG_H

#include <stdbool.h>

typedef enum {
    SD_LOG_ERROR = 3,
    SD_LOG_WARNING = 4,
    SD_LOG_NOTICE = 5,
    SD_LOG_INFO = 6,
    SD_LOG_DEBUG = 7,
} sd_log_level;

/* Messages above this level are dropped; set through sd_log_set_level(). */
extern int sd_log_threshold;

#define sd_log(level, component, ...)                                                              \
    do {                                                                                           \
        if ((int)(level) <= sd_log_threshold)                                                      \
            sd_log_write((level), (component), __VA_ARGS__);                                       \
    } while (0)

#define sd_log_error(component, ...)   sd_log(SD_LOG_ERROR, component, __VA_ARGS__)
#define sd_log_warning(component, ...) sd_log(SD_LOG_WARNING, component, __VA_ARGS__)
#define sd_log_notice(component, ...)  sd_log(SD_LOG_NOTICE, component, __VA_ARGS__)
#define sd_log_info(component, ...)    sd_log(SD_LOG_INFO, component, __VA_ARGS__)
#define sd_log_debug(component, ...)   sd_log(SD_LOG_DEBUG, component, __VA_ARGS__)

/* Chooses the line format from the environment (JOURNAL_STREAM, isatty). */
void sd_log_init(void);

/* Switches to (json) or from JSON lines: {"ts","level","component","msg"} and the scope. */
void sd_log_set_json(bool json);

/*
 * Sets what the lines logged from now on are about, until sd_log_scope_clear: kind is
 * "partition" or "connection", name e.g. "storyd.pages[2]". JSON lines carry it as a field;
 * text lines name it in their message already. Both strings are copied.
 */
void sd_log_scope_set(const char *kind, const char *name);
void sd_log_scope_clear(void);

/* The name of a level ("error" .. "debug"). */
const char *sd_log_level_name(sd_log_level level);

void sd_log_set_level(sd_log_level level);

/* Parses "error", "warning", "notice", "info" or "debug". Returns 0 or -1. */
int sd_log_level_parse(const char *name, sd_log_level *out) __attribute__((warn_unused_result));

/* Writes one line; use the sd_log_* macros instead so the level is checked first. */
void sd_log_write(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
