/*
 * Row encoding for PostgreSQL's COPY ... FROM STDIN in text format: columns
 * separated by tabs, rows by newlines, \N for NULL, and backslash escapes for
 * the characters that would otherwise end a column or row.
 * Pure: appends to a buffer, no I/O.
 */
#ifndef SD_DB_COPY_TEXT_H
#define SD_DB_COPY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Appends text escaped for COPY; NULL appends \N. The text must be valid UTF-8 without NUL. */
void sd_copy_text(sd_buf *row, const char *text);
void sd_copy_text_len(sd_buf *row, const char *text, size_t len);
void sd_copy_null(sd_buf *row);
void sd_copy_int64(sd_buf *row, int64_t value);
/* Appends a bytea value in hex form (\\x...). */
void sd_copy_bytea(sd_buf *row, const uint8_t *data, size_t len);
/* Appends a timestamptz given in Unix epoch milliseconds, in UTC. */
void sd_copy_timestamp_ms(sd_buf *row, int64_t epoch_ms);
/* Ends a column, respectively a row. */
void sd_copy_next_column(sd_buf *row);
void sd_copy_end_row(sd_buf *row);

/*
 * Decodes COPY text rows of `columns` columns back into values: each value is
 * unescaped and NUL-terminated in *values (reset first); (*offsets)[r *
 * columns + c] is where value c of row r starts, or SIZE_MAX for NULL. This
 * is how the same rows go out as statement parameters instead of COPY data.
 * *offsets is allocated (free it). Returns 0, or -1 when out of memory or a
 * row has another number of columns.
 */
int sd_copy_decode(const char *data, size_t len, size_t columns, sd_buf *values, size_t **offsets,
                   size_t *rows) __attribute__((warn_unused_result));

#endif
