/*
 * Unit tests of the PostgreSQL COPY text-format encoding (src/db/copy_text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "db/copy_text.h"

static int setup(void **state)
{
    sd_buf *row = malloc(sizeof(*row));
    if (!row)
        return -1;
    sd_buf_init(row);
    *state = row;
    return 0;
}

static int teardown(void **state)
{
    sd_buf *row = *state;
    sd_buf_release(row);
    free(row);
    return 0;
}

/* Asserts the buffer holds exactly `expected` (which may contain no NUL). */
static void assert_row(const sd_buf *row, const char *expected)
{
    assert_false(row->failed);
    assert_int_equal(row->len, strlen(expected));
    assert_non_null(row->data);
    assert_memory_equal(row->data, expected, row->len);
    assert_int_equal(row->data[row->len], '\0');
}

static void test_plain_text_unchanged(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "https://example.com/a?b=c&d=e");
    assert_row(row, "https://example.com/a?b=c&d=e");
}

static void test_tab_escaped(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "a\tb");
    assert_row(row, "a\\tb");
}

static void test_newline_escaped(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "line1\nline2\n");
    assert_row(row, "line1\\nline2\\n");
}

static void test_carriage_return_escaped(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "\rx\r\n");
    assert_row(row, "\\rx\\r\\n");
}

static void test_backslash_escaped(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "C:\\path\\N");
    /* A literal "\N" must not read back as NULL. */
    assert_row(row, "C:\\\\path\\\\N");
}

static void test_only_special_characters(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "\\\t\n\r");
    assert_row(row, "\\\\\\t\\n\\r");
}

static void test_null_is_backslash_n(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, NULL);
    assert_row(row, "\\N");
}

static void test_copy_null(void **state)
{
    sd_buf *row = *state;
    sd_copy_null(row);
    assert_row(row, "\\N");
}

static void test_empty_string_is_not_null(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "");
    assert_false(row->failed);
    assert_int_equal(row->len, 0);
}

static void test_korean_utf8_untouched(void **state)
{
    sd_buf *row = *state;
    const char *text =
        "\xeb\x89\xb4\xec\x8a\xa4 \xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"; /* 뉴스 한국어 */
    sd_copy_text(row, text);
    assert_row(row, text);
}

static void test_text_len_stops_at_len(void **state)
{
    sd_buf *row = *state;
    sd_copy_text_len(row, "ab\tcd", 3);
    assert_row(row, "ab\\t");
}

static void test_bytea_hex_with_doubled_backslash(void **state)
{
    sd_buf *row = *state;
    const uint8_t data[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    sd_copy_bytea(row, data, sizeof(data));
    assert_row(row, "\\\\x00017f80abff");
}

static void test_bytea_empty(void **state)
{
    sd_buf *row = *state;
    sd_copy_bytea(row, NULL, 0);
    assert_row(row, "\\\\x");
}

static void test_timestamp_epoch_zero(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, 0);
    assert_row(row, "1970-01-01 00:00:00.000+00");
}

static void test_timestamp_known_value(void **state)
{
    sd_buf *row = *state;
    /* 2024-03-15T12:34:56.789Z */
    sd_copy_timestamp_ms(row, INT64_C(1710506096789));
    assert_row(row, "2024-03-15 12:34:56.789+00");
}

static void test_timestamp_millis_padded(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, INT64_C(1000000000007)); /* 2001-09-09T01:46:40.007Z */
    assert_row(row, "2001-09-09 01:46:40.007+00");
}

static void test_timestamp_negative_epoch(void **state)
{
    sd_buf *row = *state;
    /* One millisecond before the epoch rounds down to the previous second. */
    sd_copy_timestamp_ms(row, -1);
    assert_row(row, "1969-12-31 23:59:59.999+00");
}

static void test_timestamp_negative_whole_second(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, -86400000); /* exactly one day before */
    assert_row(row, "1969-12-31 00:00:00.000+00");
}

static void test_timestamp_negative_with_millis(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, -1500);
    assert_row(row, "1969-12-31 23:59:58.500+00");
}

static void test_timestamp_year_9999(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, INT64_C(253402300799999));
    assert_row(row, "9999-12-31 23:59:59.999+00");
}

static void test_timestamp_year_one_is_zero_padded(void **state)
{
    sd_buf *row = *state;
    sd_copy_timestamp_ms(row, INT64_C(-62135596800000)); /* 0001-01-01T00:00:00Z */
    assert_row(row, "0001-01-01 00:00:00.000+00");
}

static void test_int64_min_max(void **state)
{
    sd_buf *row = *state;
    sd_copy_int64(row, INT64_MIN);
    sd_copy_next_column(row);
    sd_copy_int64(row, INT64_MAX);
    sd_copy_next_column(row);
    sd_copy_int64(row, 0);
    assert_row(row, "-9223372036854775808\t9223372036854775807\t0");
}

static void test_columns_and_rows(void **state)
{
    sd_buf *row = *state;
    sd_copy_text(row, "a\tb");
    sd_copy_next_column(row);
    sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_int64(row, 42);
    sd_copy_end_row(row);
    sd_copy_text(row, "second");
    sd_copy_end_row(row);
    assert_row(row, "a\\tb\t\\N\t42\nsecond\n");
}

static void test_long_text_grows_buffer(void **state)
{
    sd_buf *row = *state;
    enum { N = 5000 };
    char *text = malloc(N + 1);
    assert_non_null(text);
    for (size_t i = 0; i < N; i++)
        text[i] = (i % 10 == 9) ? '\t' : 'x';
    text[N] = '\0';
    sd_copy_text(row, text);
    free(text);
    assert_false(row->failed);
    assert_int_equal(row->len, N + N / 10);
    for (size_t i = 0; i < row->len; i += 11) {
        assert_memory_equal(row->data + i, "xxxxxxxxx\\t", 11);
    }
}

/* Rows encoded for COPY decode back to the same values, NULLs and escapes included. */
static void test_decode_round_trip(void **state)
{
    sd_buf *row = *state;
    static const uint8_t bytes[] = {0xde, 0xad};
    sd_copy_text(row, "a\tb\\c\nd");
    sd_copy_next_column(row);
    sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_bytea(row, bytes, sizeof(bytes));
    sd_copy_end_row(row);
    sd_copy_text(row, "");
    sd_copy_next_column(row);
    sd_copy_text(row, "연길");
    sd_copy_next_column(row);
    sd_copy_int64(row, -5);
    sd_copy_end_row(row);
    sd_buf values;
    sd_buf_init(&values);
    size_t *at = NULL, rows = 0;
    assert_int_equal(sd_copy_decode(row->data, row->len, 3, &values, &at, &rows), 0);
    assert_int_equal(rows, 2);
    assert_string_equal(values.data + at[0], "a\tb\\c\nd");
    assert_true(at[1] == SIZE_MAX);
    assert_string_equal(values.data + at[2], "\\xdead");
    assert_string_equal(values.data + at[3], "");
    assert_string_equal(values.data + at[4], "연길");
    assert_string_equal(values.data + at[5], "-5");
    free(at);
    /* A row with the wrong number of columns is refused. */
    assert_int_equal(sd_copy_decode(row->data, row->len, 2, &values, &at, &rows), -1);
    assert_int_equal(sd_copy_decode("", 0, 2, &values, &at, &rows), 0);
    assert_int_equal(rows, 0);
    free(at);
    sd_buf_release(&values);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_plain_text_unchanged),
        T(test_tab_escaped),
        T(test_newline_escaped),
        T(test_carriage_return_escaped),
        T(test_backslash_escaped),
        T(test_only_special_characters),
        T(test_null_is_backslash_n),
        T(test_copy_null),
        T(test_empty_string_is_not_null),
        T(test_korean_utf8_untouched),
        T(test_text_len_stops_at_len),
        T(test_bytea_hex_with_doubled_backslash),
        T(test_bytea_empty),
        T(test_timestamp_epoch_zero),
        T(test_timestamp_known_value),
        T(test_timestamp_millis_padded),
        T(test_timestamp_negative_epoch),
        T(test_timestamp_negative_whole_second),
        T(test_timestamp_negative_with_millis),
        T(test_timestamp_year_9999),
        T(test_timestamp_year_one_is_zero_padded),
        T(test_int64_min_max),
        T(test_columns_and_rows),
        T(test_long_text_grows_buffer),
        T(test_decode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
