/*
 * Unit tests of the batch (src/daemon/batch.c): COPY rows built from Kafka
 * messages, per-partition next offsets, and the transaction's steps.
 *
 * Messages are built by hand around a real topic handle (a producer without
 * brokers). librdkafka's rd_kafka_message_timestamp() reads the private
 * rd_kafka_msg_t that starts with the public message, so a hand-built message
 * lives at the start of a zeroed block large enough for it (timestamp type 0:
 * not available). Tests of the Kafka timestamp use real consumed messages
 * from librdkafka's in-process mock cluster.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <xxhash.h>

#include "daemon/batch.h"
#include "storyd/v1/page_event.pb-c.h"

#define TOPIC       "storyd.pages"
#define OTHER_TOPIC "storyd.other"
#define GROUP       "storyd-test"
/* 2024-03-15T12:34:56.789Z, and one second later. */
#define FETCHED_MS  INT64_C(1710506096789)
#define RECEIVED_MS INT64_C(1710506097789)

/* A hand-built message at the start of a zeroed block the size of librdkafka's rd_kafka_msg_t. */
typedef union fake_message {
    rd_kafka_message_t message;
    unsigned char rd_kafka_msg_t_room[1024];
} fake_message;

typedef struct fixture {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_topic_t *other_rkt;
    bt_batch *batch;
    /* Packed events whose bytes the hand-built messages borrow. */
    uint8_t *valid;
    size_t valid_len;
    uint8_t *minimal;
    size_t minimal_len;
    char why[256];
} fixture;

static const char body_text[] = "<html>\xeb\x89\xb4\xec\x8a\xa4</html>";

static uint8_t *pack_event(const Storyd__V1__PageEvent *msg, size_t *len)
{
    *len = storyd__v1__page_event__get_packed_size(msg);
    uint8_t *bytes = malloc(*len);
    if (bytes)
        storyd__v1__page_event__pack(msg, bytes);
    return bytes;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* No brokers on purpose; keep librdkafka's notice about it quiet. */
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        free(f);
        return -1;
    }
    f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!f->rk) {
        rd_kafka_conf_destroy(conf);
        free(f);
        return -1;
    }
    f->rkt = rd_kafka_topic_new(f->rk, TOPIC, NULL);
    f->other_rkt = rd_kafka_topic_new(f->rk, OTHER_TOPIC, NULL);
    f->batch = bt_new();

    Storyd__V1__PageEvent event = STORYD__V1__PAGE_EVENT__INIT;
    event.url = "https://news.example.kr/a\tb";
    event.final_url = "https://news.example.kr/final";
    event.fetched_at_ms = FETCHED_MS;
    event.http_status = 200;
    event.content_type = "text/html; charset=utf-8";
    event.body.data = (uint8_t *)body_text;
    event.body.len = sizeof(body_text) - 1;
    event.source_id = "crawler-7";
    event.publisher_hint = "example.kr";
    f->valid = pack_event(&event, &f->valid_len);

    Storyd__V1__PageEvent minimal = STORYD__V1__PAGE_EVENT__INIT;
    minimal.url = "https://minimal.example/";
    f->minimal = pack_event(&minimal, &f->minimal_len);

    *state = f;
    if (!f->rkt || !f->other_rkt || !f->batch || !f->valid || !f->minimal)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bt_free(f->batch);
    free(f->valid);
    free(f->minimal);
    if (f->rkt)
        rd_kafka_topic_destroy(f->rkt);
    if (f->other_rkt)
        rd_kafka_topic_destroy(f->other_rkt);
    rd_kafka_destroy(f->rk);
    free(f);
    return 0;
}

/* Fills *m as a consumed message with the given coordinates and value. */
static rd_kafka_message_t *make_message(fake_message *m, rd_kafka_topic_t *rkt, int32_t partition,
                                        int64_t offset, const void *value, size_t len,
                                        const void *key, size_t key_len)
{
    memset(m, 0, sizeof(*m));
    m->message.err = RD_KAFKA_RESP_ERR_NO_ERROR;
    m->message.rkt = rkt;
    m->message.partition = partition;
    m->message.offset = offset;
    m->message.payload = (void *)value;
    m->message.len = len;
    m->message.key = (void *)key;
    m->message.key_len = key_len;
    return &m->message;
}

static bt_added add_valid(fixture *f, int32_t partition, int64_t offset)
{
    fake_message m;
    return bt_add(f->batch,
                  make_message(&m, f->rkt, partition, offset, f->valid, f->valid_len, NULL, 0),
                  RECEIVED_MS, NULL, f->why, sizeof(f->why));
}

static bt_added add_garbage(fixture *f, int32_t partition, int64_t offset)
{
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    fake_message m;
    return bt_add(f->batch,
                  make_message(&m, f->rkt, partition, offset, garbage, sizeof(garbage), "key", 3),
                  RECEIVED_MS, NULL, f->why, sizeof(f->why));
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void assert_partition(const fixture *f, size_t index, const char *topic, int32_t partition,
                             int64_t next)
{
    const char *t = NULL;
    int32_t p = -1;
    int64_t n = -1;
    bt_partition(f->batch, index, &t, &p, &n);
    assert_string_equal(t, topic);
    assert_int_equal(p, partition);
    assert_int_equal(n, next);
}

/* The columns of one COPY row (one line, no trailing newline). */
typedef struct columns {
    char *text; /* owned copy of the line, split in place */
    char *col[32];
    size_t count;
} columns;

/* Splits line `index` of the COPY data into tab-separated columns. */
static void split_row(const char *data, size_t len, size_t index, columns *out)
{
    const char *line = data;
    const char *end = data + len;
    for (size_t i = 0; i < index; i++) {
        line = memchr(line, '\n', (size_t)(end - line));
        assert_non_null(line);
        line++;
    }
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    assert_non_null(nl); /* every row ends with a newline */
    out->text = strndup(line, (size_t)(nl - line));
    assert_non_null(out->text);
    out->count = 0;
    char *at = out->text;
    /* strtok would merge empty columns; split by hand. */
    for (;;) {
        assert_true(out->count < 32);
        out->col[out->count++] = at;
        char *tab = strchr(at, '\t');
        if (!tab)
            break;
        *tab = '\0';
        at = tab + 1;
    }
}

/* Counts the rows ('\n'-terminated lines) of COPY data. */
static size_t count_rows(const char *data, size_t len)
{
    size_t rows = 0;
    for (size_t i = 0; i < len; i++)
        rows += data[i] == '\n';
    return rows;
}

/* Prepares and returns the COPY step whose SQL starts with prefix, or NULL. */
static const pgc_step *find_copy(const pgc_step *steps, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        if (steps[i].kind == PGC_STEP_COPY && strncmp(steps[i].sql, prefix, strlen(prefix)) == 0)
            return &steps[i];
    }
    return NULL;
}

static const char pages_prefix[] = "COPY storyd_page_event (";
static const char rejects_prefix[] = "COPY storyd_rejected_event (";
static const char advance_prefix[] = "SELECT storyd_advance_offset(";

/* --- Counting ------------------------------------------------------------------- */

static void test_new_batch_is_empty(void **state)
{
    fixture *f = *state;
    assert_int_equal(bt_events(f->batch), 0);
    assert_int_equal(bt_pages(f->batch), 0);
    assert_int_equal(bt_rejects(f->batch), 0);
    assert_int_equal(bt_bytes(f->batch), 0);
    assert_int_equal(bt_partition_count(f->batch), 0);
}

static void test_decodable_message_adds_page(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 5), BT_PAGE);
    assert_int_equal(bt_pages(f->batch), 1);
    assert_int_equal(bt_rejects(f->batch), 0);
    assert_int_equal(bt_events(f->batch), 1);
    assert_true(bt_bytes(f->batch) > 0);
}

static void test_undecodable_message_adds_reject(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_garbage(f, 0, 5), BT_REJECTED);
    assert_int_equal(bt_pages(f->batch), 0);
    assert_int_equal(bt_rejects(f->batch), 1);
    assert_int_equal(bt_events(f->batch), 1);
    assert_contains(f->why, "protobuf: ");
    assert_contains(f->why, "3 bytes");
}

static void test_empty_message_is_rejected_as_empty(void **state)
{
    fixture *f = *state;
    fake_message m;
    assert_int_equal(bt_add(f->batch, make_message(&m, f->rkt, 0, 9, NULL, 0, NULL, 0), RECEIVED_MS,
                            NULL, f->why, sizeof(f->why)),
                     BT_REJECTED);
    assert_contains(f->why, "empty: ");
    assert_partition(f, 0, TOPIC, 0, 10);
}

static void test_field_error_is_rejected_as_invalid_field(void **state)
{
    fixture *f = *state;
    Storyd__V1__PageEvent event = STORYD__V1__PAGE_EVENT__INIT;
    event.url = "https://x/";
    event.http_status = 1000;
    size_t len;
    uint8_t *bytes = pack_event(&event, &len);
    assert_non_null(bytes);
    fake_message m;
    bt_added added = bt_add(f->batch, make_message(&m, f->rkt, 0, 1, bytes, len, NULL, 0),
                            RECEIVED_MS, NULL, f->why, sizeof(f->why));
    free(bytes);
    assert_int_equal(added, BT_REJECTED);
    assert_contains(f->why, "invalid_field: ");
    assert_contains(f->why, "http_status");
}

static void test_mixed_messages_count_pages_rejects_events(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 0), BT_PAGE);
    assert_int_equal(add_garbage(f, 0, 1), BT_REJECTED);
    assert_int_equal(add_valid(f, 0, 2), BT_PAGE);
    assert_int_equal(add_valid(f, 0, 3), BT_PAGE);
    assert_int_equal(add_garbage(f, 0, 4), BT_REJECTED);
    assert_int_equal(bt_pages(f->batch), 3);
    assert_int_equal(bt_rejects(f->batch), 2);
    assert_int_equal(bt_events(f->batch), 5);
}

/* --- Offsets -------------------------------------------------------------------- */

static void test_next_offset_is_max_offset_plus_one(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 10), BT_PAGE);
    assert_partition(f, 0, TOPIC, 0, 11);
    /* Out of order within the partition: the next offset never moves back. */
    assert_int_equal(add_valid(f, 0, 7), BT_PAGE);
    assert_int_equal(add_garbage(f, 0, 12), BT_REJECTED);
    assert_int_equal(add_valid(f, 0, 11), BT_PAGE);
    assert_int_equal(bt_partition_count(f->batch), 1);
    assert_partition(f, 0, TOPIC, 0, 13);
}

static void test_rejected_message_offset_counts_as_consumed(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_garbage(f, 4, 41), BT_REJECTED);
    assert_int_equal(bt_partition_count(f->batch), 1);
    assert_partition(f, 0, TOPIC, 4, 42);
}

static void test_second_partition_adds_partition(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 5), BT_PAGE);
    assert_int_equal(add_valid(f, 3, 100), BT_PAGE);
    assert_int_equal(add_valid(f, 0, 6), BT_PAGE);
    assert_int_equal(bt_partition_count(f->batch), 2);
    /* Partitions are listed in the order they first appeared. */
    assert_partition(f, 0, TOPIC, 0, 7);
    assert_partition(f, 1, TOPIC, 3, 101);
}

static void test_same_partition_of_other_topic_is_separate(void **state)
{
    fixture *f = *state;
    fake_message m;
    assert_int_equal(add_valid(f, 0, 5), BT_PAGE);
    assert_int_equal(bt_add(f->batch,
                            make_message(&m, f->other_rkt, 0, 50, f->valid, f->valid_len, NULL, 0),
                            RECEIVED_MS, NULL, f->why, sizeof(f->why)),
                     BT_PAGE);
    assert_int_equal(bt_partition_count(f->batch), 2);
    assert_partition(f, 0, TOPIC, 0, 6);
    assert_partition(f, 1, OTHER_TOPIC, 0, 51);
}

static void test_many_partitions_grow_the_table(void **state)
{
    fixture *f = *state;
    for (int32_t p = 0; p < 20; p++)
        assert_int_equal(add_valid(f, p, 1000 + p), BT_PAGE);
    assert_int_equal(bt_partition_count(f->batch), 20);
    for (int32_t p = 0; p < 20; p++)
        assert_partition(f, (size_t)p, TOPIC, p, 1001 + p);
}

/* --- Transaction steps ----------------------------------------------------------- */

static void test_prepare_begins_and_commits(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {0};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_non_null(steps);
    assert_true(n >= 2);
    assert_int_equal(steps[0].kind, PGC_STEP_QUERY);
    assert_string_equal(steps[0].sql, "BEGIN");
    assert_int_equal(steps[0].nparams, 0);
    assert_int_equal(steps[n - 1].kind, PGC_STEP_QUERY);
    assert_string_equal(steps[n - 1].sql, "COMMIT");
    assert_int_equal(steps[n - 1].nparams, 0);
}

static void test_prepare_step_order_with_both_tables(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    assert_int_equal(add_garbage(f, 1, 2), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {1, -1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    /* BEGIN, COPY pages, COPY rejects, two advances, COMMIT. */
    assert_int_equal(n, 6);
    assert_string_equal(steps[0].sql, "BEGIN");
    assert_int_equal(steps[1].kind, PGC_STEP_COPY);
    assert_true(strncmp(steps[1].sql, pages_prefix, strlen(pages_prefix)) == 0);
    assert_int_equal(steps[2].kind, PGC_STEP_COPY);
    assert_true(strncmp(steps[2].sql, rejects_prefix, strlen(rejects_prefix)) == 0);
    for (size_t i = 3; i < 5; i++) {
        assert_int_equal(steps[i].kind, PGC_STEP_QUERY);
        assert_true(strncmp(steps[i].sql, advance_prefix, strlen(advance_prefix)) == 0);
        assert_int_equal(steps[i].nparams, 5);
        assert_null(steps[i].copy_data);
    }
    assert_string_equal(steps[5].sql, "COMMIT");
}

static void test_prepare_copy_lengths_match_data(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    assert_int_equal(add_valid(f, 0, 2), BT_PAGE);
    assert_int_equal(add_garbage(f, 0, 3), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    const pgc_step *rejects = find_copy(steps, n, rejects_prefix);
    assert_non_null(pages);
    assert_non_null(rejects);
    assert_non_null(pages->copy_data);
    assert_non_null(rejects->copy_data);
    assert_int_equal(pages->copy_len, strlen(pages->copy_data));
    assert_int_equal(rejects->copy_len, strlen(rejects->copy_data));
    assert_int_equal(pages->copy_len + rejects->copy_len, bt_bytes(f->batch));
    assert_int_equal(count_rows(pages->copy_data, pages->copy_len), 2);
    assert_int_equal(count_rows(rejects->copy_data, rejects->copy_len), 1);
    assert_int_equal(pages->copy_data[pages->copy_len - 1], '\n');
    assert_int_equal(rejects->copy_data[rejects->copy_len - 1], '\n');
}

static void test_prepare_skips_empty_rejects(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_int_equal(n, 4); /* BEGIN, COPY pages, advance, COMMIT */
    assert_non_null(find_copy(steps, n, pages_prefix));
    assert_null(find_copy(steps, n, rejects_prefix));
}

static void test_prepare_skips_empty_pages(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_garbage(f, 0, 1), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_int_equal(n, 4); /* BEGIN, COPY rejects, advance, COMMIT */
    assert_null(find_copy(steps, n, pages_prefix));
    assert_non_null(find_copy(steps, n, rejects_prefix));
}

static void test_prepare_copy_sql_names_every_column(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    assert_int_equal(add_garbage(f, 0, 2), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    const pgc_step *rejects = find_copy(steps, n, rejects_prefix);
    assert_non_null(pages);
    assert_non_null(rejects);
    /* As many column names as every row has columns: 23 and 8. */
    size_t commas = 0;
    for (const char *c = pages->sql; *c; c++)
        commas += *c == ',';
    assert_int_equal(commas + 1, 23);
    commas = 0;
    for (const char *c = rejects->sql; *c; c++)
        commas += *c == ',';
    assert_int_equal(commas + 1, 8);
    assert_contains(pages->sql, "FROM STDIN");
    assert_contains(rejects->sql, "FROM STDIN");
}

static void test_prepare_advance_params(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 2, 10), BT_PAGE);
    assert_int_equal(add_valid(f, 7, 500), BT_PAGE);
    assert_int_equal(add_valid(f, 2, 11), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {10, -1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_int_equal(n, 5); /* BEGIN, COPY pages, 2 advances, COMMIT */

    const pgc_step *a = &steps[2];
    assert_true(strncmp(a->sql, advance_prefix, strlen(advance_prefix)) == 0);
    assert_int_equal(a->nparams, 5);
    assert_string_equal(a->params[0], GROUP);
    assert_string_equal(a->params[1], TOPIC);
    assert_string_equal(a->params[2], "2");
    assert_string_equal(a->params[3], "10");
    assert_string_equal(a->params[4], "12");

    const pgc_step *b = &steps[3];
    assert_int_equal(b->nparams, 5);
    assert_string_equal(b->params[0], GROUP);
    assert_string_equal(b->params[1], TOPIC);
    assert_string_equal(b->params[2], "7");
    assert_null(b->params[3]); /* nothing stored yet: SQL NULL */
    assert_string_equal(b->params[4], "501");
}

static void test_prepare_advance_params_large_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, INT32_MAX, INT64_C(9007199254740993)), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {INT64_C(9007199254740990)};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_string_equal(steps[2].params[2], "2147483647");
    assert_string_equal(steps[2].params[3], "9007199254740990");
    assert_string_equal(steps[2].params[4], "9007199254740994");
}

static void test_prepare_empty_batch(void **state)
{
    fixture *f = *state;
    pgc_step *steps = NULL;
    size_t n = 0;
    assert_int_equal(bt_prepare(f->batch, GROUP, NULL, &steps, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(steps[0].sql, "BEGIN");
    assert_string_equal(steps[1].sql, "COMMIT");
}

/* --- Rows ------------------------------------------------------------------------ */

static void test_page_row_has_23_columns(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 3, 77), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    assert_non_null(pages);
    columns c;
    split_row(pages->copy_data, pages->copy_len, 0, &c);
    assert_int_equal(c.count, 23);
    /* The tab inside the url is escaped, so it does not split the column. */
    assert_string_equal(c.col[0], "https://news.example.kr/a\\tb");
    assert_string_equal(c.col[1], "https://news.example.kr/final");
    assert_string_equal(c.col[2], "2024-03-15 12:34:56.789+00");
    assert_string_equal(c.col[3], "200");
    assert_string_equal(c.col[4], "text/html; charset=utf-8");
    char size[16];
    snprintf(size, sizeof(size), "%zu", sizeof(body_text) - 1);
    assert_string_equal(c.col[5], size);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(body_text, sizeof(body_text) - 1));
    char hash[3 + 32 + 1] = "\\\\x";
    for (size_t i = 0; i < 16; i++)
        snprintf(hash + 3 + 2 * i, 3, "%02x", canonical.digest[i]);
    assert_string_equal(c.col[6], hash);
    assert_string_equal(c.col[7], "crawler-7");
    assert_string_equal(c.col[8], "example.kr");
    assert_string_equal(c.col[9], TOPIC);
    assert_string_equal(c.col[10], "3");
    assert_string_equal(c.col[11], "77");
    assert_string_equal(c.col[12], "\\N"); /* hand-built message: no Kafka timestamp */
    assert_string_equal(c.col[13], "2024-03-15 12:34:57.789+00");
    /* Extraction ran (no profile serves the host: the generic extractor) and did not fail. */
    assert_string_equal(c.col[18], "utf-8");
    assert_true(c.col[19][0] >= '0' && c.col[19][0] <= '9');
    assert_string_equal(c.col[20], "\\N");
    free(c.text);
}

static void test_page_row_writes_null_for_absent_fields(void **state)
{
    fixture *f = *state;
    fake_message m;
    assert_int_equal(bt_add(f->batch,
                            make_message(&m, f->rkt, 0, 1, f->minimal, f->minimal_len, NULL, 0),
                            RECEIVED_MS, NULL, f->why, sizeof(f->why)),
                     BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    assert_non_null(pages);
    columns c;
    split_row(pages->copy_data, pages->copy_len, 0, &c);
    assert_int_equal(c.count, 23);
    assert_string_equal(c.col[0], "https://minimal.example/");
    assert_string_equal(c.col[1], "\\N");       /* final_url */
    assert_string_equal(c.col[2], "\\N");       /* fetched_at 0: unknown */
    assert_string_equal(c.col[3], "\\N");       /* http_status 0: unknown */
    assert_string_equal(c.col[4], "\\N");       /* content_type */
    assert_string_equal(c.col[5], "0");         /* body_size */
    assert_string_equal(c.col[21], "protobuf"); /* wire_format: no header, not framed */
    assert_string_equal(c.col[22], "\\N");      /* schema_id: not framed */
    assert_true(strncmp(c.col[6], "\\\\x", 3) == 0);
    assert_int_equal(strlen(c.col[6]), 3 + 32);
    assert_string_equal(c.col[7], "\\N"); /* source_id */
    assert_string_equal(c.col[8], "\\N"); /* publisher_hint */
    free(c.text);
}

static void test_reject_row_has_8_columns(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_garbage(f, 2, 33), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *rejects = find_copy(steps, n, rejects_prefix);
    assert_non_null(rejects);
    columns c;
    split_row(rejects->copy_data, rejects->copy_len, 0, &c);
    assert_int_equal(c.count, 8);
    assert_string_equal(c.col[0], TOPIC);
    assert_string_equal(c.col[1], "2");
    assert_string_equal(c.col[2], "33");
    assert_string_equal(c.col[3], "\\\\x6b6579"); /* key "key" as bytea */
    assert_string_equal(c.col[4], "3");           /* value_size */
    assert_string_equal(c.col[5], "protobuf");
    assert_contains(c.col[6], "do not decode");
    assert_string_equal(c.col[7], "2024-03-15 12:34:57.789+00");
    free(c.text);
}

static void test_reject_row_without_key_writes_null(void **state)
{
    fixture *f = *state;
    fake_message m;
    assert_int_equal(bt_add(f->batch, make_message(&m, f->rkt, 0, 8, NULL, 0, NULL, 0), RECEIVED_MS,
                            NULL, f->why, sizeof(f->why)),
                     BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *rejects = find_copy(steps, n, rejects_prefix);
    assert_non_null(rejects);
    columns c;
    split_row(rejects->copy_data, rejects->copy_len, 0, &c);
    assert_int_equal(c.count, 8);
    assert_string_equal(c.col[3], "\\N");
    assert_string_equal(c.col[4], "0");
    assert_string_equal(c.col[5], "empty");
    free(c.text);
}

static void test_rows_follow_message_order(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 30), BT_PAGE);
    assert_int_equal(add_valid(f, 0, 10), BT_PAGE);
    assert_int_equal(add_valid(f, 0, 20), BT_PAGE);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    assert_non_null(pages);
    static const char *const offsets[] = {"30", "10", "20"};
    for (size_t i = 0; i < 3; i++) {
        columns c;
        split_row(pages->copy_data, pages->copy_len, i, &c);
        assert_int_equal(c.count, 23);
        assert_string_equal(c.col[11], offsets[i]);
        free(c.text);
    }
}

/* --- Reuse ----------------------------------------------------------------------- */

static void test_reset_empties_the_batch(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    assert_int_equal(add_garbage(f, 1, 2), BT_REJECTED);
    bt_reset(f->batch);
    assert_int_equal(bt_events(f->batch), 0);
    assert_int_equal(bt_pages(f->batch), 0);
    assert_int_equal(bt_rejects(f->batch), 0);
    assert_int_equal(bt_bytes(f->batch), 0);
    assert_int_equal(bt_partition_count(f->batch), 0);
}

static void test_batch_is_reusable_after_reset(void **state)
{
    fixture *f = *state;
    assert_int_equal(add_valid(f, 0, 1), BT_PAGE);
    assert_int_equal(add_garbage(f, 1, 2), BT_REJECTED);
    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t first_expected[] = {-1, -1};
    assert_int_equal(bt_prepare(f->batch, GROUP, first_expected, &steps, &n), 0);
    bt_reset(f->batch);

    /* A second batch with more partitions than the first: the steps grow. */
    for (int32_t p = 0; p < 12; p++)
        assert_int_equal(add_valid(f, p, 100 + p), BT_PAGE);
    assert_int_equal(bt_pages(f->batch), 12);
    assert_int_equal(bt_rejects(f->batch), 0);
    assert_int_equal(bt_partition_count(f->batch), 12);
    assert_partition(f, 0, TOPIC, 0, 101);
    int64_t expected[12];
    for (size_t i = 0; i < 12; i++)
        expected[i] = 100 + (int64_t)i;
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    assert_int_equal(n, 3 + 12);
    assert_null(find_copy(steps, n, rejects_prefix));
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    assert_non_null(pages);
    /* Only the new rows: nothing of the first batch is left over. */
    assert_int_equal(count_rows(pages->copy_data, pages->copy_len), 12);
    assert_int_equal(pages->copy_len, bt_bytes(f->batch));
    columns c;
    split_row(pages->copy_data, pages->copy_len, 0, &c);
    assert_string_equal(c.col[11], "100");
    free(c.text);
    assert_string_equal(steps[2 + 11].params[2], "11");
    assert_string_equal(steps[2 + 11].params[3], "111");
    assert_string_equal(steps[2 + 11].params[4], "112");
    assert_string_equal(steps[n - 1].sql, "COMMIT");
}

static void test_free_null_is_safe(void **state)
{
    (void)state;
    bt_free(NULL);
}

/* --- Real messages from librdkafka's mock cluster --------------------------------- */

/* Sets a librdkafka property or fails the test. */
static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        fail_msg("%s: %s", name, errstr);
}

/*
 * Produces one valid event with CreateTime timestamp_ms to a mock cluster,
 * consumes it back and adds the consumed message to f->batch. Returns the
 * row's kafka_timestamp column (free it).
 */
static char *add_consumed(fixture *f, int64_t timestamp_ms)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "test.mock.num.brokers", "1");
    conf_set(conf, "log_level", "3");
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(producer);
    rd_kafka_mock_cluster_t *cluster = rd_kafka_handle_mock_cluster(producer);
    assert_non_null(cluster);
    assert_int_equal(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                       RD_KAFKA_V_VALUE(f->valid, f->valid_len),
                                       RD_KAFKA_V_KEY("k", 1), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_flush(producer, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);

    conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cluster));
    conf_set(conf, "group.id", GROUP);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "log_level", "3");
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(consumer);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(consumer, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);

    rd_kafka_message_t *message = NULL;
    for (int i = 0; i < 200 && !message; i++) {
        message = rd_kafka_consumer_poll(consumer, 100);
        if (message && message->err) {
            rd_kafka_message_destroy(message);
            message = NULL;
        }
    }
    assert_non_null(message);
    rd_kafka_timestamp_type_t ts_type;
    assert_int_equal(rd_kafka_message_timestamp(message, &ts_type), timestamp_ms);
    assert_int_equal(ts_type, RD_KAFKA_TIMESTAMP_CREATE_TIME);
    bt_added added = bt_add(f->batch, message, RECEIVED_MS, NULL, f->why, sizeof(f->why));
    rd_kafka_message_destroy(message);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    assert_int_equal(added, BT_PAGE);

    pgc_step *steps = NULL;
    size_t n = 0;
    int64_t expected[] = {-1};
    assert_int_equal(bt_prepare(f->batch, GROUP, expected, &steps, &n), 0);
    const pgc_step *pages = find_copy(steps, n, pages_prefix);
    assert_non_null(pages);
    columns c;
    split_row(pages->copy_data, pages->copy_len, 0, &c);
    assert_int_equal(c.count, 23);
    assert_string_equal(c.col[9], TOPIC);
    assert_string_equal(c.col[10], "0");
    assert_string_equal(c.col[11], "0"); /* the first offset of a new topic */
    char *kafka_ts = strdup(c.col[12]);
    free(c.text);
    assert_non_null(kafka_ts);
    return kafka_ts;
}

static void test_kafka_timestamp_of_real_message(void **state)
{
    fixture *f = *state;
    char *kafka_ts = add_consumed(f, INT64_C(1710506095123));
    assert_string_equal(kafka_ts, "2024-03-15 12:34:55.123+00");
    free(kafka_ts);
}

/*
 * A producer may set any int64 timestamp. INT64_MAX ms would be year
 * 292278994, which PostgreSQL's timestamptz refuses, failing the whole batch
 * (and every replay of it); storyd stores NULL instead.
 */
static void test_kafka_timestamp_beyond_postgres_range_is_null(void **state)
{
    fixture *f = *state;
    char *kafka_ts = add_consumed(f, INT64_MAX);
    char column[64];
    snprintf(column, sizeof(column), "%s", kafka_ts);
    free(kafka_ts);
    bool loadable = strcmp(column, "\\N") == 0 || strtol(column, NULL, 10) <= 294276;
    if (!loadable)
        fail_msg("kafka_timestamp column '%s' is outside PostgreSQL's timestamptz range", column);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_batch_is_empty),
        T(test_decodable_message_adds_page),
        T(test_undecodable_message_adds_reject),
        T(test_empty_message_is_rejected_as_empty),
        T(test_field_error_is_rejected_as_invalid_field),
        T(test_mixed_messages_count_pages_rejects_events),
        T(test_next_offset_is_max_offset_plus_one),
        T(test_rejected_message_offset_counts_as_consumed),
        T(test_second_partition_adds_partition),
        T(test_same_partition_of_other_topic_is_separate),
        T(test_many_partitions_grow_the_table),
        T(test_prepare_begins_and_commits),
        T(test_prepare_step_order_with_both_tables),
        T(test_prepare_copy_lengths_match_data),
        T(test_prepare_skips_empty_rejects),
        T(test_prepare_skips_empty_pages),
        T(test_prepare_copy_sql_names_every_column),
        T(test_prepare_advance_params),
        T(test_prepare_advance_params_large_values),
        T(test_prepare_empty_batch),
        T(test_page_row_has_23_columns),
        T(test_page_row_writes_null_for_absent_fields),
        T(test_reject_row_has_8_columns),
        T(test_reject_row_without_key_writes_null),
        T(test_rows_follow_message_order),
        T(test_reset_empties_the_batch),
        T(test_batch_is_reusable_after_reset),
        T(test_free_null_is_safe),
        T(test_kafka_timestamp_of_real_message),
        T(test_kafka_timestamp_beyond_postgres_range_is_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
