#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int sd_log_threshold = SD_LOG_INFO;

/* True when lines go to a person's terminal rather than to journald or a file. */
static bool log_human_format;
static bool log_json;
static char scope_kind[16];
static char scope_name[256];

static const char *const level_names[] = {
    [SD_LOG_ERROR] = "error", [SD_LOG_WARNING] = "warning", [SD_LOG_NOTICE] = "notice",
    [SD_LOG_INFO] = "info",   [SD_LOG_DEBUG] = "debug",
};

void sd_log_init(void)
{
    /* journald sets JOURNAL_STREAM when stderr is connected to it; it adds its own timestamps. */
    log_human_format = getenv("JOURNAL_STREAM") == NULL && isatty(STDERR_FILENO);
}

void sd_log_set_json(bool json)
{
    log_json = json;
}

void sd_log_scope_set(const char *kind, const char *name)
{
    snprintf(scope_kind, sizeof(scope_kind), "%s", kind);
    snprintf(scope_name, sizeof(scope_name), "%s", name);
}

void sd_log_scope_clear(void)
{
    scope_kind[0] = '\0';
    scope_name[0] = '\0';
}

const char *sd_log_level_name(sd_log_level level)
{
    return level >= SD_LOG_ERROR && level <= SD_LOG_DEBUG ? level_names[level] : "?";
}

/* Writes text as the inside of a JSON string: quotes, backslashes and controls escaped. */
static void json_string(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
}

/* Writes the time now with milliseconds into stamp: RFC 3339 in UTC, or the local time of day. */
static void stamp_now(char *stamp, size_t size, bool utc)
{
    struct timeval now;
    struct tm tm;
    gettimeofday(&now, NULL);
    size_t used = utc ? strftime(stamp, size, "%Y-%m-%dT%H:%M:%S", gmtime_r(&now.tv_sec, &tm))
                      : strftime(stamp, size, "%H:%M:%S", localtime_r(&now.tv_sec, &tm));
    snprintf(stamp + used, size - used, ".%03ld", (long)(now.tv_usec / 1000));
}

static void write_json(int level, const char *component, const char *message)
{
    char stamp[40];
    stamp_now(stamp, sizeof(stamp), true);
    flockfile(stderr);
    fprintf(stderr, "{\"ts\":\"%sZ\",\"level\":\"%s\",\"priority\":%d,\"component\":\"", stamp,
            level_names[level], level);
    json_string(stderr, component);
    fputs("\",\"msg\":\"", stderr);
    json_string(stderr, message);
    fputc('"', stderr);
    if (scope_kind[0]) {
        fprintf(stderr, ",\"%s\":\"", scope_kind);
        json_string(stderr, scope_name);
        fputc('"', stderr);
    }
    fputs("}\n", stderr);
    funlockfile(stderr);
}

void sd_log_set_level(sd_log_level level)
{
    sd_log_threshold = (int)level;
}

int sd_log_level_parse(const char *name, sd_log_level *out)
{
    /* "warn" is what most daemons call it; accept it too. */
    if (strcasecmp(name, "warn") == 0) {
        *out = SD_LOG_WARNING;
        return 0;
    }
    for (int level = SD_LOG_ERROR; level <= SD_LOG_DEBUG; level++) {
        if (strcasecmp(name, level_names[level]) == 0) {
            *out = (sd_log_level)level;
            return 0;
        }
    }
    return -1;
}

void sd_log_write(int level, const char *component, const char *fmt, ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    /* One line per entry: a newline inside a message would split a journald entry. */
    for (char *p = message; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    if (level < SD_LOG_ERROR)
        level = SD_LOG_ERROR;
    if (level > SD_LOG_DEBUG)
        level = SD_LOG_DEBUG;

    if (log_json) {
        write_json(level, component, message);
    } else if (log_human_format) {
        char stamp[40];
        stamp_now(stamp, sizeof(stamp), false);
        fprintf(stderr, "%s %-7s %s: %s\n", stamp, level_names[level], component, message);
    } else {
        fprintf(stderr, "<%d>%s: %s\n", level, component, message);
    }
}
