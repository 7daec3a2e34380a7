/*
 * A growable byte buffer. Appends report allocation failure through a sticky
 * flag checked once at the end, which keeps row-building code linear.
 */
#ifndef SD_COMMON_BUF_H
#define SD_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sd_buf {
    char *data; /* owned; NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    bool failed; /* an append ran out of memory; contents are incomplete */
} sd_buf;

void sd_buf_init(sd_buf *buf);
/* Frees the memory; the buffer may be reused after sd_buf_init. */
void sd_buf_release(sd_buf *buf);
/* Empties the buffer but keeps its memory for the next batch. */
void sd_buf_reset(sd_buf *buf);
void sd_buf_append(sd_buf *buf, const void *data, size_t len);
void sd_buf_append_str(sd_buf *buf, const char *text);
void sd_buf_append_char(sd_buf *buf, char c);
void sd_buf_printf(sd_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
