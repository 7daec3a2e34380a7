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

static const char *const level_names[] = {
    [SD_LOG_ERROR] = "error", [SD_LOG_WARNING] = "warning", [SD_LOG_NOTICE] = "notice",
    [SD_LOG_INFO] = "info",   [SD_LOG_DEBUG] = "debug",
};

void sd_log_init(void)
{
    /* journald sets JOURNAL_STREAM when stderr is connected to it; it adds its own timestamps. */
    log_human_format = getenv("JOURNAL_STREAM") == NULL && isatty(STDERR_FILENO);
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

    if (log_human_format) {
        struct timeval now;
        struct tm tm;
        char stamp[32];
        gettimeofday(&now, NULL);
        localtime_r(&now.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld %-7s %s: %s\n", stamp, (long)(now.tv_usec / 1000),
                level_names[level], component, message);
    } else {
        fprintf(stderr, "<%d>%s: %s\n", level, component, message);
    }
}
