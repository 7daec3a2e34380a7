#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sd_buf_init(sd_buf *buf)
{
    memset(buf, 0, sizeof(*buf));
}

void sd_buf_release(sd_buf *buf)
{
    free(buf->data);
    sd_buf_init(buf);
}

void sd_buf_reset(sd_buf *buf)
{
    buf->len = 0;
    buf->failed = false;
    if (buf->data)
        buf->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus a terminating NUL. */
static bool buf_reserve(sd_buf *buf, size_t extra)
{
    if (buf->failed)
        return false;
    if (extra > SIZE_MAX / 2 - buf->len) {
        buf->failed = true;
        return false;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return true;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (!data) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

void sd_buf_append(sd_buf *buf, const void *data, size_t len)
{
    if (!buf_reserve(buf, len))
        return;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void sd_buf_append_str(sd_buf *buf, const char *text)
{
    sd_buf_append(buf, text, strlen(text));
}

void sd_buf_append_char(sd_buf *buf, char c)
{
    sd_buf_append(buf, &c, 1);
}

void sd_buf_printf(sd_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int needed = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (needed < 0 || !buf_reserve(buf, (size_t)needed)) {
        buf->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)needed + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)needed;
}
