/* Error messages into a caller's buffer, the one convention of fallible functions. Pure. */
#ifndef SD_COMMON_ERROR_H
#define SD_COMMON_ERROR_H

#include <stddef.h>

/* Formats a message into err (errlen bytes); does nothing when err is NULL or errlen is 0. */
void sd_set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
