#include "db/copy_text.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sd_copy_text_len(sd_buf *row, const char *text, size_t len)
{
    size_t run_start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *escape = NULL;
        switch (text[i]) {
        case '\\':
            escape = "\\\\";
            break;
        case '\t':
            escape = "\\t";
            break;
        case '\n':
            escape = "\\n";
            break;
        case '\r':
            escape = "\\r";
            break;
        default:
            continue;
        }
        sd_buf_append(row, text + run_start, i - run_start);
        sd_buf_append_str(row, escape);
        run_start = i + 1;
    }
    sd_buf_append(row, text + run_start, len - run_start);
}

void sd_copy_text(sd_buf *row, const char *text)
{
    if (!text) {
        sd_copy_null(row);
        return;
    }
    sd_copy_text_len(row, text, strlen(text));
}

void sd_copy_null(sd_buf *row)
{
    sd_buf_append(row, "\\N", 2);
}

void sd_copy_int64(sd_buf *row, int64_t value)
{
    sd_buf_printf(row, "%" PRId64, value);
}

void sd_copy_bytea(sd_buf *row, const uint8_t *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* COPY text unescapes "\\" to "\", so bytea's "\x" prefix is written doubled. */
    sd_buf_append(row, "\\\\x", 3);
    for (size_t i = 0; i < len; i++) {
        char pair[2] = {hex[data[i] >> 4], hex[data[i] & 15]};
        sd_buf_append(row, pair, 2);
    }
}

void sd_copy_timestamp_ms(sd_buf *row, int64_t epoch_ms)
{
    int64_t seconds = epoch_ms / 1000;
    int64_t millis = epoch_ms % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        sd_copy_null(row);
        return;
    }
    sd_buf_printf(row, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)millis);
}

void sd_copy_next_column(sd_buf *row)
{
    sd_buf_append_char(row, '\t');
}

void sd_copy_end_row(sd_buf *row)
{
    sd_buf_append_char(row, '\n');
}

int sd_copy_decode(const char *data, size_t len, size_t columns, sd_buf *values, size_t **offsets,
                   size_t *rows)
{
    /* Values are written NUL-terminated one after the other; a NULL is recorded as SIZE_MAX. */
    size_t cap = 0, count = 0, column = 0;
    size_t *at = NULL;
    sd_buf_reset(values);
    size_t i = 0;
    bool null = false;
    size_t start = values->len;
    while (i <= len) {
        char c = i < len ? data[i] : '\n';
        if (c == '\t' || c == '\n') {
            if (i == len && column == 0 && values->len == start && !null)
                break; /* the input ended after a row */
            if (count == cap) {
                cap = cap ? cap * 2 : 256;
                size_t *grown = realloc(at, cap * sizeof(*grown));
                if (!grown) {
                    free(at);
                    return -1;
                }
                at = grown;
            }
            at[count++] = null ? SIZE_MAX : start;
            sd_buf_append_char(values, '\0');
            start = values->len;
            null = false;
            column++;
            if (c == '\n') {
                if (column != columns) {
                    free(at);
                    return -1;
                }
                column = 0;
            }
            i++;
            continue;
        }
        if (c == '\\' && i + 1 < len) {
            char e = data[i + 1];
            i += 2;
            switch (e) {
            case 'N':
                null = true;
                break;
            case 't':
                sd_buf_append_char(values, '\t');
                break;
            case 'n':
                sd_buf_append_char(values, '\n');
                break;
            case 'r':
                sd_buf_append_char(values, '\r');
                break;
            default:
                sd_buf_append_char(values, e);
                break;
            }
            continue;
        }
        sd_buf_append_char(values, c);
        i++;
    }
    if (values->failed || column != 0) {
        free(at);
        return -1;
    }
    *offsets = at;
    *rows = count / (columns ? columns : 1);
    return 0;
}
