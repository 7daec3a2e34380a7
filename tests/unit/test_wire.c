/*
 * Unit tests of the wire formats (src/core/wire.c, src/core/page_event_json.c):
 * Confluent framing, JSON events, the format selector, and schema evolution,
 * with events packed by an older (storyd.v0) and a newer (storyd.v2) schema
 * generated from tests/fixtures/proto and a committed binary fixture of the
 * current one (docs/wire-formats.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/page_event.h"
#include "core/page_event_json.h"
#include "storyd/v0/page_event.pb-c.h"
#include "storyd/v1/page_event.pb-c.h"
#include "storyd/v2/page_event.pb-c.h"

/* Bytes under test; each test builds one message and decodes it. */
typedef struct wire_fixture {
    uint8_t bytes[4096];
    size_t len;
    pe_page_event *event;
    char err[512];
} wire_fixture;

static int setup(void **state)
{
    wire_fixture *f = calloc(1, sizeof(*f));
    *state = f;
    return f ? 0 : -1;
}

static int teardown(void **state)
{
    wire_fixture *f = *state;
    pe_free(f->event);
    free(f);
    return 0;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static pe_status decode(wire_fixture *f, pe_format format, const char *content_type)
{
    pe_free(f->event);
    f->event = NULL;
    f->err[0] = '\0';
    return pe_decode_message(f->bytes, f->len, format, content_type, &f->event, f->err,
                             sizeof(f->err));
}

/* Asserts that decoding fails with status and a message containing part. */
static void assert_decode_error(wire_fixture *f, pe_format format, pe_status status,
                                const char *part)
{
    assert_int_equal(decode(f, format, NULL), status);
    assert_null(f->event);
    assert_contains(f->err, part);
}

static void set_bytes(wire_fixture *f, const void *bytes, size_t len)
{
    assert_true(len <= sizeof(f->bytes));
    memcpy(f->bytes, bytes, len);
    f->len = len;
}

/* Moves the message in f->bytes behind a Confluent header with the given index bytes. */
static void frame(wire_fixture *f, uint32_t schema_id, const char *indexes, size_t indexes_len)
{
    size_t header = 5 + indexes_len;
    assert_true(f->len + header <= sizeof(f->bytes));
    memmove(f->bytes + header, f->bytes, f->len);
    f->bytes[0] = 0x00;
    f->bytes[1] = (uint8_t)(schema_id >> 24);
    f->bytes[2] = (uint8_t)(schema_id >> 16);
    f->bytes[3] = (uint8_t)(schema_id >> 8);
    f->bytes[4] = (uint8_t)schema_id;
    memcpy(f->bytes + 5, indexes, indexes_len);
    f->len += header;
}

static void set_text(wire_fixture *f, const char *text)
{
    set_bytes(f, text, strlen(text));
}

/* --- Events of the current schema (storyd.v1) ------------------------------------ */

static void pack_v1(wire_fixture *f, const char *url, uint32_t http_status)
{
    Storyd__V1__PageEvent msg = STORYD__V1__PAGE_EVENT__INIT;
    msg.url = (char *)url;
    msg.http_status = http_status;
    msg.content_type = "text/html";
    msg.body.data = (uint8_t *)"<p>hi</p>";
    msg.body.len = 9;
    size_t size = storyd__v1__page_event__get_packed_size(&msg);
    assert_true(size <= sizeof(f->bytes));
    f->len = storyd__v1__page_event__pack(&msg, f->bytes);
}

static void assert_v1_event(wire_fixture *f, pe_format format, int32_t schema_id)
{
    assert_non_null(f->event);
    assert_string_equal(f->event->url, "https://news.example.kr/a/1");
    assert_int_equal(f->event->http_status, 200);
    assert_string_equal(f->event->content_type, "text/html");
    assert_int_equal(f->event->body_len, 9);
    assert_memory_equal(f->event->body, "<p>hi</p>", 9);
    assert_int_equal(f->event->format, format);
    assert_int_equal(f->event->schema_id, schema_id);
}

/* --- The format selector --------------------------------------------------------- */

static void test_format_names_round_trip(void **state)
{
    (void)state;
    const pe_format formats[] = {PE_FORMAT_AUTO, PE_FORMAT_PROTOBUF, PE_FORMAT_CONFLUENT,
                                 PE_FORMAT_JSON};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pe_format_parse(pe_format_name(formats[i])), formats[i]);
    assert_string_equal(pe_format_name(PE_FORMAT_CONFLUENT), "confluent");
    assert_int_equal(pe_format_parse("JSON"), PE_FORMAT_INVALID);
    assert_int_equal(pe_format_parse("avro"), PE_FORMAT_INVALID);
    assert_int_equal(pe_format_parse(""), PE_FORMAT_INVALID);
    assert_int_equal(pe_format_parse(NULL), PE_FORMAT_INVALID);
    assert_string_equal(pe_format_name(PE_FORMAT_INVALID), "invalid");
    assert_string_equal(pe_status_name(PE_ERR_FRAMING), "framing");
    assert_string_equal(pe_status_name(PE_ERR_JSON), "json");
}

static void test_content_type_names_a_format(void **state)
{
    (void)state;
    assert_int_equal(pe_format_from_content_type("application/json"), PE_FORMAT_JSON);
    assert_int_equal(pe_format_from_content_type(" Application/JSON ; charset=utf-8"),
                     PE_FORMAT_JSON);
    assert_int_equal(pe_format_from_content_type("application/vnd.storyd.page+json"),
                     PE_FORMAT_JSON);
    assert_int_equal(pe_format_from_content_type("application/x-protobuf"), PE_FORMAT_PROTOBUF);
    assert_int_equal(pe_format_from_content_type("application/protobuf; proto=storyd.v1.PageEvent"),
                     PE_FORMAT_PROTOBUF);
    assert_int_equal(pe_format_from_content_type("application/vnd.confluent.protobuf"),
                     PE_FORMAT_CONFLUENT);
    assert_int_equal(pe_format_from_content_type("application/octet-stream"), PE_FORMAT_AUTO);
    assert_int_equal(pe_format_from_content_type(""), PE_FORMAT_AUTO);
    assert_int_equal(pe_format_from_content_type(NULL), PE_FORMAT_AUTO);
}

static void test_auto_sniffs_each_format(void **state)
{
    wire_fixture *f = *state;
    pack_v1(f, "https://news.example.kr/a/1", 200);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v1_event(f, PE_FORMAT_PROTOBUF, -1);

    frame(f, 42, "\x00", 1);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v1_event(f, PE_FORMAT_CONFLUENT, 42);

    set_text(f, "{\"url\": \"https://news.example.kr/a/1\", \"http_status\": 200, "
                "\"content_type\": \"text/html\", \"body\": \"<p>hi</p>\"}");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v1_event(f, PE_FORMAT_JSON, -1);

    set_text(f, "\r\n {\"url\": \"https://news.example.kr/a/1\", \"http_status\": 200, "
                "\"content_type\": \"text/html\", \"body\": \"<p>hi</p>\"}\n");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v1_event(f, PE_FORMAT_JSON, -1);
}

static void test_auto_reads_protobuf_that_starts_like_json(void **state)
{
    wire_fixture *f = *state;
    /* A url of 123 bytes packs as 0x0a 0x7b: a newline, then '{'. */
    char url[124];
    memset(url, 'a', 123);
    memcpy(url, "https://x/", 10);
    url[123] = '\0';
    pack_v1(f, url, 200);
    assert_int_equal(f->bytes[0], '\n');
    assert_int_equal(f->bytes[1], '{');
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_string_equal(f->event->url, url);
    assert_int_equal(f->event->format, PE_FORMAT_PROTOBUF);
}

static void test_auto_reports_both_readings_of_whitespace_then_brace(void **state)
{
    wire_fixture *f = *state;
    set_text(f, "\n{\"url\": ");
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_PROTOBUF, "not JSON either: JSON at byte");
}

static void test_content_type_header_decides_in_auto(void **state)
{
    wire_fixture *f = *state;
    set_text(f, "{\"url\": \"https://news.example.kr/a/1\"}");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, "application/json"), PE_OK);
    assert_int_equal(f->event->format, PE_FORMAT_JSON);
    /* A header naming protobuf is believed, so the same bytes are refused. */
    assert_int_equal(decode(f, PE_FORMAT_AUTO, "application/x-protobuf"), PE_ERR_PROTOBUF);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, "application/vnd.confluent.protobuf"),
                     PE_ERR_FRAMING);
    assert_contains(f->err, "byte 0 is 0x7b");
    /* An unknown media type leaves it to the bytes. */
    assert_int_equal(decode(f, PE_FORMAT_AUTO, "application/octet-stream"), PE_OK);
    assert_int_equal(f->event->format, PE_FORMAT_JSON);
}

static void test_forced_format_decodes_only_that_format(void **state)
{
    wire_fixture *f = *state;
    pack_v1(f, "https://news.example.kr/a/1", 200);
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, "JSON at byte");
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                        "byte 0 is 0x0a, not the Confluent magic byte 0x00");
    /* The forced format wins over the header. */
    assert_int_equal(decode(f, PE_FORMAT_PROTOBUF, "application/json"), PE_OK);
    assert_v1_event(f, PE_FORMAT_PROTOBUF, -1);
    frame(f, 7, "\x00", 1);
    assert_int_equal(decode(f, PE_FORMAT_PROTOBUF, NULL), PE_ERR_PROTOBUF);
}

static void test_empty_and_invalid_format(void **state)
{
    wire_fixture *f = *state;
    f->len = 0;
    for (pe_format format = PE_FORMAT_AUTO; format <= PE_FORMAT_JSON; format++)
        assert_decode_error(f, format, PE_ERR_EMPTY, "no value");
    set_text(f, "{}");
    assert_decode_error(f, PE_FORMAT_INVALID, PE_ERR_FRAMING, "no wire format");
    assert_decode_error(f, (pe_format)17, PE_ERR_FRAMING, "no wire format");
}

static void test_pe_decode_records_protobuf(void **state)
{
    wire_fixture *f = *state;
    pack_v1(f, "https://news.example.kr/a/1", 200);
    assert_int_equal(pe_decode(f->bytes, f->len, &f->event, f->err, sizeof(f->err)), PE_OK);
    assert_v1_event(f, PE_FORMAT_PROTOBUF, -1);
}

/* --- Confluent framing ------------------------------------------------------------ */

static void test_confluent_accepts_both_spellings_of_index_path_0(void **state)
{
    wire_fixture *f = *state;
    pack_v1(f, "https://news.example.kr/a/1", 200);
    frame(f, 0x01020304, "\x02\x00", 2); /* count 1, index 0 */
    assert_int_equal(decode(f, PE_FORMAT_CONFLUENT, NULL), PE_OK);
    assert_v1_event(f, PE_FORMAT_CONFLUENT, 0x01020304);
    pe_confluent_frame header;
    assert_int_equal(pe_confluent_header(f->bytes, f->len, &header, f->err, sizeof(f->err)), PE_OK);
    assert_int_equal(header.schema_id, 0x01020304);
    assert_int_equal(header.payload_offset, 7);
}

static void test_confluent_truncated_headers(void **state)
{
    wire_fixture *f = *state;
    for (size_t len = 1; len < 5; len++) {
        set_bytes(f, "\x00\x00\x00\x00", len);
        assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                            "the schema id needs bytes 1..4");
    }
    set_bytes(f, "\x00\x00\x00\x00\x01", 5);
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_FRAMING, "message indexes at byte 5 are missing");
    set_bytes(f, "\x00\x00\x00\x00\x01\x80", 6);
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING, "varint at byte 5 is truncated");
    set_bytes(f, "\x00\x00\x00\x00\x01\x02", 6); /* count 1, the index missing */
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING, "exceeds the 0 bytes left");
    set_bytes(f, "\x00\x00\x00\x00\x01\xff\xff\xff\xff\x7f\x00", 11);
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                        "varint at byte 5 is longer than 32 bits");
}

static void test_confluent_bad_counts_and_ids(void **state)
{
    wire_fixture *f = *state;
    set_bytes(f, "\x00\x00\x00\x00\x01\x01\x0a\x01u", 9); /* zigzag 1 = -1 */
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                        "message-index count -1 at byte 5 is negative");
    set_bytes(f, "\x00\x00\x00\x00\x01\xfe\xff\xff\xff\x0f\x0a\x01u", 13); /* INT32_MAX */
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                        "count 2147483647 at byte 5 exceeds the 3 bytes left");
    set_bytes(f, "\x00\x80\x00\x00\x01\x00\x0a\x01u", 9);
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING,
                        "schema id 0x80000001 at byte 1 is negative");
}

static void test_confluent_refuses_other_messages(void **state)
{
    wire_fixture *f = *state;
    pack_v1(f, "https://news.example.kr/a/1", 200);
    frame(f, 9, "\x02\x02", 2); /* [1]: the second message of the schema */
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_FRAMING,
                        "message indexes [1] (byte 6) name another message than "
                        "storyd.v1.PageEvent");
    pack_v1(f, "https://news.example.kr/a/1", 200);
    frame(f, 9, "\x04\x00\x00", 3); /* [0, 0]: a message nested in the first */
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING, "[0, 0] (byte 7)");
    pack_v1(f, "https://news.example.kr/a/1", 200);
    frame(f, 9, "\x02\x01", 2); /* [-1] */
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FRAMING, "[-1] (byte 6)");
}

static void test_confluent_payload_errors_name_the_offset(void **state)
{
    wire_fixture *f = *state;
    set_bytes(f, "\x00\x00\x00\x00\x05\x00\xff\xff", 8);
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_PROTOBUF,
                        "Confluent payload at byte 6 (schema id 5): 2 bytes do not decode");
    /* An empty payload is a PageEvent with every field at its default: no url. */
    set_bytes(f, "\x00\x00\x00\x00\x05\x00", 6);
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_FIELD, "field url is empty");
    pack_v1(f, "https://news.example.kr/a/1", 1000);
    frame(f, 5, "\x00", 1);
    assert_decode_error(f, PE_FORMAT_CONFLUENT, PE_ERR_FIELD,
                        "field http_status 1000 is not an HTTP status");
}

/* --- JSON events ------------------------------------------------------------------ */

static void test_json_decodes_every_field(void **state)
{
    wire_fixture *f = *state;
    set_text(f,
             "{\"url\": \"https://news.example.kr/a/1\", \"final_url\": \"https://m.example.kr/1\","
             " \"fetched_at\": \"2024-03-15T21:34:56.789+09:00\", \"http_status\": 200,"
             " \"content_type\": \"text/html; charset=utf-8\", \"body\": \"\\ub274\\uc2a4\","
             " \"source_id\": \"crawler-7\", \"publisher_hint\": \"example.kr\","
             " \"headers\": {\"etag\": \"\\\"abc\\\"\"}}");
    assert_int_equal(decode(f, PE_FORMAT_JSON, NULL), PE_OK);
    pe_page_event *e = f->event;
    assert_string_equal(e->url, "https://news.example.kr/a/1");
    assert_string_equal(e->final_url, "https://m.example.kr/1");
    assert_int_equal(e->fetched_at_ms, INT64_C(1710506096789));
    assert_int_equal(e->http_status, 200);
    assert_string_equal(e->content_type, "text/html; charset=utf-8");
    assert_int_equal(e->body_len, 6);
    assert_memory_equal(e->body, "\xeb\x89\xb4\xec\x8a\xa4", 6);
    assert_string_equal(e->source_id, "crawler-7");
    assert_string_equal(e->publisher_hint, "example.kr");
    assert_int_equal(e->header_count, 1);
    assert_string_equal(e->headers[0].name, "etag");
    assert_string_equal(e->headers[0].value, "\"abc\"");
    assert_int_equal(e->format, PE_FORMAT_JSON);
    assert_int_equal(e->schema_id, -1);
}

static void test_json_body_base64_and_epoch_ms(void **state)
{
    wire_fixture *f = *state;
    set_text(f, "{\"url\": \"u\", \"body_base64\": \"AAH/\", \"fetched_at\": 1710506096789,"
                " \"final_url\": null, \"headers\": null}");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_int_equal(f->event->body_len, 3);
    assert_memory_equal(f->event->body, "\x00\x01\xff", 3);
    assert_int_equal(f->event->fetched_at_ms, INT64_C(1710506096789));
    assert_null(f->event->final_url);
    assert_int_equal(f->event->header_count, 0);
}

static void test_json_shares_the_field_contract(void **state)
{
    wire_fixture *f = *state;
    /* The same breach gives the same message in both formats: one validator. */
    pack_v1(f, "https://news.example.kr/a/1", 1000);
    assert_int_equal(decode(f, PE_FORMAT_PROTOBUF, NULL), PE_ERR_FIELD);
    char protobuf_err[512];
    snprintf(protobuf_err, sizeof(protobuf_err), "%s", f->err);
    set_text(f, "{\"url\": \"https://news.example.kr/a/1\", \"http_status\": 1000}");
    assert_int_equal(decode(f, PE_FORMAT_JSON, NULL), PE_ERR_FIELD);
    assert_string_equal(f->err, protobuf_err);

    set_text(f, "{\"body\": \"no url\"}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_FIELD, "field url is empty");
    set_text(f, "{\"url\": \"\"}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_FIELD, "field url is empty");
    set_text(f, "{}");
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_FIELD, "field url is empty");
    set_text(f, "{\"url\": \"u\", \"fetched_at\": \"1969-12-31T23:59:59Z\"}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_FIELD, "field fetched_at_ms -1000 is outside");
    set_text(f, "{\"url\": \"u\", \"fetched_at\": 253402300800000}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_FIELD, "is outside 1970..9999");
}

static void test_json_type_errors_name_the_key(void **state)
{
    wire_fixture *f = *state;
    static const struct {
        const char *json;
        const char *part;
    } cases[] = {
        {"[1, 2]", "expected a JSON object"},
        {"{\"url\": 5}", "key url: expected a string"},
        {"{\"url\": \"u\", \"source_id\": true}", "key source_id: expected a string"},
        {"{\"url\": \"u\", \"http_status\": -1}", "key http_status: expected an integer"},
        {"{\"url\": \"u\", \"http_status\": 4294967496}", "key http_status: expected an integer"},
        {"{\"url\": \"u\", \"http_status\": 200.5}", "key http_status: expected an integer"},
        {"{\"url\": \"u\", \"fetched_at\": \"2024-03-15 noon\"}", "key fetched_at: '2024-03-15"},
        {"{\"url\": \"u\", \"fetched_at\": 1.5}", "key fetched_at: expected RFC 3339"},
        {"{\"url\": \"u\", \"body\": 1}", "key body: expected a string"},
        {"{\"url\": \"u\", \"body_base64\": \"!!\"}", "key body_base64: not base64"},
        {"{\"url\": \"u\", \"body\": \"a\", \"body_base64\": \"YQ==\"}", "give one of them"},
        {"{\"url\": \"u\", \"headers\": [\"etag\"]}", "key headers: expected an object"},
        {"{\"url\": \"u\", \"headers\": {\"etag\": 1}}", "key headers.etag: expected a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        set_text(f, cases[i].json);
        assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, cases[i].part);
    }
}

static void test_json_syntax_errors_name_the_byte(void **state)
{
    wire_fixture *f = *state;
    set_text(f, "{\"url\": \"u\",}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, "JSON at byte 13 (line 1, column 13)");
    set_text(f, "{\"url\": \"u\", \"url\": \"v\"}");
    assert_decode_error(f, PE_FORMAT_AUTO, PE_ERR_JSON, "duplicate object key");
    set_text(f, "{\"url\": \"u\\u0000v\"}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, "JSON at byte");
    set_text(f, "{\"url\": \"\xff\"}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, "JSON at byte");
    set_text(f, "{\"url\": \"u\"} {}");
    assert_decode_error(f, PE_FORMAT_JSON, PE_ERR_JSON, "end of file expected");
}

static void test_rfc3339_parser(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(pe_rfc3339_to_ms("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(pe_rfc3339_to_ms("2024-02-29t12:00:00.5z", &ms), 0);
    assert_int_equal(ms, INT64_C(1709208000500));
    /* 12:34:56 half an hour behind UTC is 13:04:56Z. */
    assert_int_equal(pe_rfc3339_to_ms("2024-03-15T12:34:56.7891234-00:30", &ms), 0);
    assert_int_equal(ms, INT64_C(1710506096789) + 30 * 60 * 1000);
    assert_int_equal(pe_rfc3339_to_ms("9999-12-31T23:59:59.999Z", &ms), 0);
    assert_int_equal(ms, PE_MAX_TIMESTAMP_MS);
    static const char *const bad[] = {
        "",
        "2024-03-15",
        "2024-03-15T12:34:56",
        "2024-03-15T12:34:56+9:00",
        "2024-03-15T12:34:56+09",
        "2024-03-15T12:34:56+09:00x",
        "2024-03-15T12:34:56.Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-03-15T24:00:00Z",
        " 2024-03-15T12:34:56Z",
        "2024-3-15T12:34:56Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (pe_rfc3339_to_ms(bad[i], &ms) == 0)
            fail_msg("'%s' parsed", bad[i]);
}

/* --- Schema evolution --------------------------------------------------------------- */

/* Packs an event of the first schema version: fields 1-6 only. */
static void pack_v0(wire_fixture *f)
{
    Storyd__V0__PageEvent msg = STORYD__V0__PAGE_EVENT__INIT;
    msg.url = "https://old.example.kr/1";
    msg.fetched_at_ms = INT64_C(1600000000000);
    msg.http_status = 301;
    msg.content_type = "text/plain";
    msg.body.data = (uint8_t *)"old";
    msg.body.len = 3;
    assert_true(storyd__v0__page_event__get_packed_size(&msg) <= sizeof(f->bytes));
    f->len = storyd__v0__page_event__pack(&msg, f->bytes);
}

static void assert_v0_event(wire_fixture *f, pe_format format)
{
    pe_page_event *e = f->event;
    assert_non_null(e);
    assert_string_equal(e->url, "https://old.example.kr/1");
    assert_null(e->final_url);
    assert_int_equal(e->fetched_at_ms, INT64_C(1600000000000));
    assert_int_equal(e->http_status, 301);
    assert_string_equal(e->content_type, "text/plain");
    assert_memory_equal(e->body, "old", 3);
    assert_null(e->source_id);
    assert_null(e->publisher_hint);
    assert_int_equal(e->header_count, 0);
    assert_int_equal(e->format, format);
}

static void test_v0_events_decode_with_defaults(void **state)
{
    wire_fixture *f = *state;
    pack_v0(f);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v0_event(f, PE_FORMAT_PROTOBUF);
    frame(f, 1, "\x00", 1);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v0_event(f, PE_FORMAT_CONFLUENT);
    assert_int_equal(f->event->schema_id, 1);
    /* A JSON event of that time has only the keys the first version knew. */
    set_text(f, "{\"url\": \"https://old.example.kr/1\", \"fetched_at\": 1600000000000,"
                " \"http_status\": 301, \"content_type\": \"text/plain\", \"body\": \"old\"}");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v0_event(f, PE_FORMAT_JSON);
}

/* Packs an event of a newer schema version, with a field and a map storyd does not know. */
static void pack_v2(wire_fixture *f)
{
    Storyd__V2__PageEvent msg = STORYD__V2__PAGE_EVENT__INIT;
    Storyd__V2__PageEvent__HeadersEntry header = STORYD__V2__PAGE_EVENT__HEADERS_ENTRY__INIT;
    Storyd__V2__PageEvent__HeadersEntry *headers[] = {&header};
    Storyd__V2__PageEvent__TimingsMsEntry timing = STORYD__V2__PAGE_EVENT__TIMINGS_MS_ENTRY__INIT;
    Storyd__V2__PageEvent__TimingsMsEntry *timings[] = {&timing};
    msg.url = "https://new.example.kr/1";
    msg.http_status = 200;
    msg.source_id = "crawler-9";
    msg.publisher_hint = "example.kr";
    header.key = "etag";
    header.value = "v2";
    msg.n_headers = 1;
    msg.headers = headers;
    msg.crawl_id = "crawl-2031-01";
    timing.key = "connect";
    timing.value = 12;
    msg.n_timings_ms = 1;
    msg.timings_ms = timings;
    assert_true(storyd__v2__page_event__get_packed_size(&msg) <= sizeof(f->bytes));
    f->len = storyd__v2__page_event__pack(&msg, f->bytes);
}

static void assert_v2_event(wire_fixture *f, pe_format format)
{
    pe_page_event *e = f->event;
    assert_non_null(e);
    assert_string_equal(e->url, "https://new.example.kr/1");
    assert_int_equal(e->http_status, 200);
    assert_string_equal(e->source_id, "crawler-9");
    assert_string_equal(e->publisher_hint, "example.kr");
    assert_int_equal(e->header_count, 1);
    assert_string_equal(e->headers[0].name, "etag");
    assert_string_equal(e->headers[0].value, "v2");
    assert_int_equal(e->body_len, 0);
    assert_int_equal(e->format, format);
}

static void test_v2_events_decode_with_new_fields_ignored(void **state)
{
    wire_fixture *f = *state;
    pack_v2(f);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v2_event(f, PE_FORMAT_PROTOBUF);
    frame(f, 77, "\x02\x00", 2);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, "application/vnd.confluent.protobuf"), PE_OK);
    assert_v2_event(f, PE_FORMAT_CONFLUENT);
    assert_int_equal(f->event->schema_id, 77);
    set_text(f, "{\"url\": \"https://new.example.kr/1\", \"http_status\": 200,"
                " \"source_id\": \"crawler-9\", \"publisher_hint\": \"example.kr\","
                " \"headers\": {\"etag\": \"v2\"}, \"crawl_id\": \"crawl-2031-01\","
                " \"timings_ms\": {\"connect\": 12}}");
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_v2_event(f, PE_FORMAT_JSON);
}

/* Reads the committed fixture; see tests/fixtures/events/make_page_event_v1.py. */
static void read_fixture(wire_fixture *f, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/events/%s", STORYD_SOURCE_DIR, name);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot open %s", path);
    f->len = fread(f->bytes, 1, sizeof(f->bytes), file);
    assert_int_equal(ferror(file), 0);
    fclose(file);
    assert_true(f->len > 0 && f->len < sizeof(f->bytes));
}

static void assert_fixture_event(wire_fixture *f)
{
    static const char body[] =
        "<html><head><title>\xeb\x89\xb4\xec\x8a\xa4 v1</title></head><body><p>fixture</p>"
        "</body></html>";
    pe_page_event *e = f->event;
    assert_non_null(e);
    assert_string_equal(e->url, "https://news.example.kr/article/2024/0315");
    assert_string_equal(e->final_url, "https://www.news.example.kr/article/2024/0315");
    assert_int_equal(e->fetched_at_ms, INT64_C(1710506096789));
    assert_int_equal(e->http_status, 200);
    assert_string_equal(e->content_type, "text/html; charset=utf-8");
    assert_int_equal(e->body_len, sizeof(body) - 1);
    assert_memory_equal(e->body, body, sizeof(body) - 1);
    assert_string_equal(e->source_id, "crawler-v1-fixture");
    assert_string_equal(e->publisher_hint, "example.kr");
    assert_int_equal(e->header_count, 2);
    assert_string_equal(e->headers[0].name, "etag");
    assert_string_equal(e->headers[0].value, "\"v1\"");
    assert_string_equal(e->headers[1].name, "last-modified");
    assert_string_equal(e->headers[1].value, "Fri, 15 Mar 2024 12:00:00 GMT");
}

static void test_committed_v1_bytes_still_decode(void **state)
{
    wire_fixture *f = *state;
    read_fixture(f, "page_event_v1.bin");
    assert_int_equal(f->len, 299);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_fixture_event(f);
    assert_int_equal(f->event->format, PE_FORMAT_PROTOBUF);
    frame(f, 3, "\x00", 1);
    assert_int_equal(decode(f, PE_FORMAT_AUTO, NULL), PE_OK);
    assert_fixture_event(f);
    assert_int_equal(f->event->schema_id, 3);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_format_names_round_trip),
        T(test_content_type_names_a_format),
        T(test_auto_sniffs_each_format),
        T(test_auto_reads_protobuf_that_starts_like_json),
        T(test_auto_reports_both_readings_of_whitespace_then_brace),
        T(test_content_type_header_decides_in_auto),
        T(test_forced_format_decodes_only_that_format),
        T(test_empty_and_invalid_format),
        T(test_pe_decode_records_protobuf),
        T(test_confluent_accepts_both_spellings_of_index_path_0),
        T(test_confluent_truncated_headers),
        T(test_confluent_bad_counts_and_ids),
        T(test_confluent_refuses_other_messages),
        T(test_confluent_payload_errors_name_the_offset),
        T(test_json_decodes_every_field),
        T(test_json_body_base64_and_epoch_ms),
        T(test_json_shares_the_field_contract),
        T(test_json_type_errors_name_the_key),
        T(test_json_syntax_errors_name_the_byte),
        T(test_rfc3339_parser),
        T(test_v0_events_decode_with_defaults),
        T(test_v2_events_decode_with_new_fields_ignored),
        T(test_committed_v1_bytes_still_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
