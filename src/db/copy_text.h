/*
 * Row encoding for PostgreSQL's COPY ... FROM STDIN in text format: columns
 * separated by tabs, rows by newlines, \N for NULL, and backslash escapes for
 * the characters that would otherwise end a column or row.
 * Pure: appends to a buffer, no I/O.
 */
#ifndef SD_DB_COPY_TEXT_H
#define SD_DB_COPY_TEXT_H

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

#endif
