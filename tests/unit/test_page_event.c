/*
 * Unit tests of the page event decoder (src/core/page_event.c) and the UTF-8
 * check it relies on (src/core/utf8.c). Events are built with the generated
 * protobuf-c code, so the bytes are what any conforming producer sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "core/page_event.h"
#include "core/utf8.h"
#include "storyd/v1/page_event.pb-c.h"

static const char body_text[] = "<html><body>\xeb\x89\xb4\xec\x8a\xa4</body></html>";

/* A complete, valid event; tests change one field of it. */
typedef struct event_fixture {
    Storyd__V1__PageEvent msg;
    Storyd__V1__PageEvent__HeadersEntry header_entries[2];
    Storyd__V1__PageEvent__HeadersEntry *header_ptrs[2];
    uint8_t *packed;
    size_t packed_len;
    pe_page_event *event;
    char err[256];
} event_fixture;

static int setup(void **state)
{
    event_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    storyd__v1__page_event__init(&f->msg);
    f->msg.url = "https://news.example.kr/article/1";
    f->msg.final_url = "https://news.example.kr/article/1?amp=0";
    f->msg.fetched_at_ms = INT64_C(1710506096789);
    f->msg.http_status = 200;
    f->msg.content_type = "text/html; charset=utf-8";
    f->msg.body.data = (uint8_t *)body_text;
    f->msg.body.len = sizeof(body_text) - 1;
    f->msg.source_id = "crawler-7";
    f->msg.publisher_hint = "example.kr";
    for (size_t i = 0; i < 2; i++) {
        storyd__v1__page_event__headers_entry__init(&f->header_entries[i]);
        f->header_ptrs[i] = &f->header_entries[i];
    }
    f->header_entries[0].key = "etag";
    f->header_entries[0].value = "\"abc\"";
    f->header_entries[1].key = "last-modified";
    f->header_entries[1].value = "Fri, 15 Mar 2024 12:00:00 GMT";
    f->msg.n_headers = 2;
    f->msg.headers = f->header_ptrs;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    event_fixture *f = *state;
    pe_free(f->event);
    free(f->packed);
    free(f);
    return 0;
}

/* Packs f->msg into f->packed. */
static void pack(event_fixture *f)
{
    free(f->packed);
    f->packed_len = storyd__v1__page_event__get_packed_size(&f->msg);
    f->packed = malloc(f->packed_len ? f->packed_len : 1);
    assert_non_null(f->packed);
    assert_int_equal(storyd__v1__page_event__pack(&f->msg, f->packed), f->packed_len);
}

/* Packs f->msg and decodes it. */
static pe_status pack_and_decode(event_fixture *f)
{
    pack(f);
    f->err[0] = '\0';
    return pe_decode(f->packed, f->packed_len, &f->event, f->err, sizeof(f->err));
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* Asserts a PE_ERR_FIELD whose message contains every given part. */
static void assert_field_error(event_fixture *f, pe_status status, const char *part1,
                               const char *part2)
{
    assert_int_equal(status, PE_ERR_FIELD);
    assert_null(f->event);
    assert_contains(f->err, part1);
    if (part2)
        assert_contains(f->err, part2);
}

/* --- Decoding valid events ----------------------------------------------------- */

static void test_valid_event_decodes_every_field(void **state)
{
    event_fixture *f = *state;
    assert_int_equal(pack_and_decode(f), PE_OK);
    pe_page_event *e = f->event;
    assert_non_null(e);
    assert_string_equal(e->url, "https://news.example.kr/article/1");
    assert_string_equal(e->final_url, "https://news.example.kr/article/1?amp=0");
    assert_int_equal(e->fetched_at_ms, INT64_C(1710506096789));
    assert_int_equal(e->http_status, 200);
    assert_string_equal(e->content_type, "text/html; charset=utf-8");
    assert_int_equal(e->body_len, sizeof(body_text) - 1);
    assert_memory_equal(e->body, body_text, e->body_len);
    assert_string_equal(e->source_id, "crawler-7");
    assert_string_equal(e->publisher_hint, "example.kr");
}

static void test_valid_event_decodes_headers(void **state)
{
    event_fixture *f = *state;
    assert_int_equal(pack_and_decode(f), PE_OK);
    pe_page_event *e = f->event;
    assert_int_equal(e->header_count, 2);
    assert_non_null(e->headers);
    /* A protobuf map has no order on the wire; look the names up. */
    int seen = 0;
    for (size_t i = 0; i < e->header_count; i++) {
        if (strcmp(e->headers[i].name, "etag") == 0) {
            assert_string_equal(e->headers[i].value, "\"abc\"");
            seen |= 1;
        } else if (strcmp(e->headers[i].name, "last-modified") == 0) {
            assert_string_equal(e->headers[i].value, "Fri, 15 Mar 2024 12:00:00 GMT");
            seen |= 2;
        } else {
            fail_msg("unexpected header '%s'", e->headers[i].name);
        }
    }
    assert_int_equal(seen, 3);
}

static void test_content_hash_is_xxh3_128_canonical(void **state)
{
    event_fixture *f = *state;
    assert_int_equal(pack_and_decode(f), PE_OK);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(body_text, sizeof(body_text) - 1));
    assert_memory_equal(f->event->content_hash, canonical.digest, 16);
    /* Canonical form is big-endian: the first byte is the high byte of high64. */
    XXH128_hash_t hash = XXH3_128bits(body_text, sizeof(body_text) - 1);
    assert_int_equal(f->event->content_hash[0], (uint8_t)(hash.high64 >> 56));
    assert_int_equal(f->event->content_hash[15], (uint8_t)(hash.low64 & 0xff));
}

static void test_empty_body_hashes_empty_input(void **state)
{
    event_fixture *f = *state;
    f->msg.body.data = NULL;
    f->msg.body.len = 0;
    assert_int_equal(pack_and_decode(f), PE_OK);
    assert_int_equal(f->event->body_len, 0);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits("", 0));
    assert_memory_equal(f->event->content_hash, canonical.digest, 16);
}

static void test_empty_optional_strings_become_null(void **state)
{
    event_fixture *f = *state;
    f->msg.final_url = "";
    f->msg.content_type = "";
    f->msg.source_id = "";
    f->msg.publisher_hint = "";
    f->msg.n_headers = 0;
    assert_int_equal(pack_and_decode(f), PE_OK);
    assert_null(f->event->final_url);
    assert_null(f->event->content_type);
    assert_null(f->event->source_id);
    assert_null(f->event->publisher_hint);
    assert_int_equal(f->event->header_count, 0);
    assert_string_equal(f->event->url, "https://news.example.kr/article/1");
}

static void test_minimal_event_with_only_url(void **state)
{
    event_fixture *f = *state;
    Storyd__V1__PageEvent minimal = STORYD__V1__PAGE_EVENT__INIT;
    minimal.url = "u";
    f->msg = minimal;
    assert_int_equal(pack_and_decode(f), PE_OK);
    assert_string_equal(f->event->url, "u");
    assert_int_equal(f->event->fetched_at_ms, 0);
    assert_int_equal(f->event->http_status, 0);
    assert_int_equal(f->event->body_len, 0);
}

static void test_bounds_of_fetched_at_and_status_accepted(void **state)
{
    event_fixture *f = *state;
    f->msg.fetched_at_ms = INT64_C(253402300799999); /* 9999-12-31T23:59:59.999Z */
    f->msg.http_status = 999;
    assert_int_equal(pack_and_decode(f), PE_OK);
    assert_int_equal(f->event->fetched_at_ms, INT64_C(253402300799999));
    assert_int_equal(f->event->http_status, 999);
}

static void test_unknown_fields_are_ignored(void **state)
{
    event_fixture *f = *state;
    pack(f);
    /* Append field 20 (varint, tag 20<<3|0 = 0xa0 0x01) with value 7: a newer producer. */
    uint8_t *grown = realloc(f->packed, f->packed_len + 3);
    assert_non_null(grown);
    f->packed = grown;
    memcpy(f->packed + f->packed_len, "\xa0\x01\x07", 3);
    f->packed_len += 3;
    assert_int_equal(pe_decode(f->packed, f->packed_len, &f->event, f->err, sizeof(f->err)), PE_OK);
    assert_string_equal(f->event->url, "https://news.example.kr/article/1");
}

/* --- Rejected bytes ------------------------------------------------------------ */

static void test_empty_input_is_empty(void **state)
{
    event_fixture *f = *state;
    pe_page_event *event = (pe_page_event *)(uintptr_t)1;
    assert_int_equal(pe_decode((const uint8_t *)"", 0, &event, f->err, sizeof(f->err)),
                     PE_ERR_EMPTY);
    assert_null(event);
    assert_true(f->err[0] != '\0');
}

static void test_null_input_is_empty(void **state)
{
    event_fixture *f = *state;
    assert_int_equal(pe_decode(NULL, 0, &f->event, f->err, sizeof(f->err)), PE_ERR_EMPTY);
    assert_null(f->event);
}

static void test_garbage_bytes_are_protobuf_error(void **state)
{
    event_fixture *f = *state;
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    assert_int_equal(pe_decode(garbage, sizeof(garbage), &f->event, f->err, sizeof(f->err)),
                     PE_ERR_PROTOBUF);
    assert_null(f->event);
    assert_contains(f->err, "3 bytes");
    assert_contains(f->err, "storyd.v1.PageEvent");
}

static void test_truncated_message_is_protobuf_error(void **state)
{
    event_fixture *f = *state;
    pack(f);
    /* The last field is a length-delimited header entry; cut into it. */
    size_t cut = f->packed_len - 3;
    assert_int_equal(pe_decode(f->packed, cut, &f->event, f->err, sizeof(f->err)), PE_ERR_PROTOBUF);
    assert_null(f->event);
    assert_true(f->err[0] != '\0');
}

static void test_wrong_wire_type_is_protobuf_error(void **state)
{
    event_fixture *f = *state;
    /* Field 1 (url) sent as a varint instead of a length-delimited string. */
    const uint8_t bytes[] = {0x08, 0x01};
    assert_int_equal(pe_decode(bytes, sizeof(bytes), &f->event, f->err, sizeof(f->err)),
                     PE_ERR_PROTOBUF);
    assert_null(f->event);
}

static void test_missing_url_is_field_error(void **state)
{
    event_fixture *f = *state;
    f->msg.url = "";
    assert_field_error(f, pack_and_decode(f), "url", NULL);
}

static void test_invalid_utf8_in_url(void **state)
{
    event_fixture *f = *state;
    f->msg.url = "https://x/\xc3\x28";
    assert_field_error(f, pack_and_decode(f), "field url ", "at byte 10");
}

static void test_invalid_utf8_at_start_of_url(void **state)
{
    event_fixture *f = *state;
    f->msg.url = "\xc3\x28";
    assert_field_error(f, pack_and_decode(f), "field url ", "at byte 0");
}

static void test_invalid_utf8_in_final_url(void **state)
{
    event_fixture *f = *state;
    f->msg.final_url = "https://y/\xff";
    assert_field_error(f, pack_and_decode(f), "field final_url ", "at byte 10");
}

static void test_invalid_utf8_in_content_type(void **state)
{
    event_fixture *f = *state;
    f->msg.content_type = "text/html; charset=\xe9uc-kr";
    assert_field_error(f, pack_and_decode(f), "field content_type ", "at byte 19");
}

static void test_invalid_utf8_in_source_id_and_publisher_hint(void **state)
{
    event_fixture *f = *state;
    f->msg.source_id = "\x80";
    assert_field_error(f, pack_and_decode(f), "field source_id ", "at byte 0");

    f->msg.source_id = "crawler-7";
    f->msg.publisher_hint = "ab\xed\xa0\x80"; /* a UTF-16 surrogate */
    assert_field_error(f, pack_and_decode(f), "field publisher_hint ", "at byte 2");
}

static void test_invalid_utf8_in_header(void **state)
{
    event_fixture *f = *state;
    f->header_entries[1].value = "ok\xc0\xaf"; /* overlong '/' */
    assert_field_error(f, pack_and_decode(f), "headers[", "at byte 2");
}

/*
 * protobuf-c returns string fields NUL-terminated without their length, so a
 * NUL inside a url would silently store a shorter, different url. The wire
 * bytes are checked instead, and the error names the field and the byte.
 */
static void test_nul_byte_in_url_is_rejected(void **state)
{
    event_fixture *f = *state;
    /* protobuf-c packs strings with strlen, so write the field by hand. */
    const char url[] = "https://a/\0evil";
    uint8_t bytes[2 + sizeof(url) - 1];
    bytes[0] = 0x0a; /* field 1, length-delimited */
    bytes[1] = (uint8_t)(sizeof(url) - 1);
    memcpy(bytes + 2, url, sizeof(url) - 1);
    pe_status status = pe_decode(bytes, sizeof(bytes), &f->event, f->err, sizeof(f->err));
    if (status == PE_OK)
        fail_msg("url with a NUL at byte 10 decoded as '%s'", f->event->url);
    assert_field_error(f, status, "url", "at byte 10");
}

static void test_negative_fetched_at_rejected(void **state)
{
    event_fixture *f = *state;
    f->msg.fetched_at_ms = -1;
    assert_field_error(f, pack_and_decode(f), "fetched_at_ms", "-1");
}

static void test_fetched_at_after_year_9999_rejected(void **state)
{
    event_fixture *f = *state;
    f->msg.fetched_at_ms = INT64_C(253402300800000);
    assert_field_error(f, pack_and_decode(f), "fetched_at_ms", "253402300800000");
}

static void test_http_status_1000_rejected(void **state)
{
    event_fixture *f = *state;
    f->msg.http_status = 1000;
    assert_field_error(f, pack_and_decode(f), "http_status", "1000");
}

static void test_error_message_fits_small_buffer(void **state)
{
    event_fixture *f = *state;
    f->msg.http_status = 4000000000u;
    pack(f);
    char small[8];
    memset(small, 'x', sizeof(small));
    assert_int_equal(pe_decode(f->packed, f->packed_len, &f->event, small, sizeof(small)),
                     PE_ERR_FIELD);
    assert_int_equal(small[sizeof(small) - 1], '\0');
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* --- Names and lifetime ------------------------------------------------------------ */

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(pe_status_name(PE_OK), "ok");
    assert_string_equal(pe_status_name(PE_ERR_EMPTY), "empty");
    assert_string_equal(pe_status_name(PE_ERR_PROTOBUF), "protobuf");
    assert_string_equal(pe_status_name(PE_ERR_FIELD), "invalid_field");
    assert_string_equal(pe_status_name(PE_ERR_NOMEM), "out_of_memory");
    assert_string_equal(pe_status_name((pe_status)42), "unknown");
}

static void test_free_null_is_safe(void **state)
{
    (void)state;
    pe_free(NULL);
}

/* --- sd_utf8_valid ------------------------------------------------------------------ */

static void assert_utf8_bad(const char *text, size_t len, size_t expected_offset)
{
    size_t bad = (size_t)-1;
    assert_false(sd_utf8_valid(text, len, &bad));
    assert_int_equal(bad, expected_offset);
}

static void test_utf8_accepts_valid_text(void **state)
{
    (void)state;
    size_t bad = 12345;
    assert_true(sd_utf8_valid("", 0, &bad));
    assert_true(sd_utf8_valid("plain ascii", 11, &bad));
    const char korean[] = "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"; /* 한국어 */
    assert_true(sd_utf8_valid(korean, sizeof(korean) - 1, &bad));
    const char four_byte[] = "\xf0\x9f\x93\xb0 \xf4\x8f\xbf\xbf"; /* U+1F4F0, U+10FFFF */
    assert_true(sd_utf8_valid(four_byte, sizeof(four_byte) - 1, &bad));
    const char edges[] = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd";
    assert_true(sd_utf8_valid(edges, sizeof(edges) - 1, &bad));
    assert_int_equal(bad, 12345); /* untouched on success */
}

static void test_utf8_rejects_overlong_forms(void **state)
{
    (void)state;
    assert_utf8_bad("\xc0\xaf", 2, 0);          /* '/' in two bytes */
    assert_utf8_bad("ab\xc1\xbf", 4, 2);        /* U+007F in two bytes */
    assert_utf8_bad("\xe0\x80\xaf", 3, 0);      /* '/' in three bytes */
    assert_utf8_bad("x\xf0\x80\x80\xaf", 5, 1); /* '/' in four bytes */
}

static void test_utf8_rejects_surrogates(void **state)
{
    (void)state;
    assert_utf8_bad("\xed\xa0\x80", 3, 0);   /* U+D800 */
    assert_utf8_bad("ok\xed\xbf\xbf", 5, 2); /* U+DFFF */
}

static void test_utf8_rejects_beyond_u10ffff(void **state)
{
    (void)state;
    assert_utf8_bad("\xf4\x90\x80\x80", 4, 0); /* U+110000 */
    assert_utf8_bad("\xf8\x88\x80\x80\x80", 5, 0);
}

static void test_utf8_rejects_stray_and_truncated_bytes(void **state)
{
    (void)state;
    assert_utf8_bad("\x80", 1, 0);             /* lone continuation byte */
    assert_utf8_bad("abc\xc3\x28", 5, 3);      /* lead byte, bad continuation */
    assert_utf8_bad("abc\xe2\x82", 5, 3);      /* truncated at the end */
    assert_utf8_bad("\xed\x95\x9c\xff", 4, 3); /* valid char, then 0xff */
    assert_utf8_bad("\xfe", 1, 0);
}

static void test_utf8_rejects_nul(void **state)
{
    (void)state;
    assert_utf8_bad("ab\0cd", 5, 2);
    assert_utf8_bad("\0", 1, 0);
}

static void test_utf8_checks_only_len_bytes(void **state)
{
    (void)state;
    size_t bad = 0;
    /* The bad byte lies past len, so it is not looked at. */
    assert_true(sd_utf8_valid("abc\xff", 3, &bad));
    /* A sequence cut by len counts as truncated. */
    assert_utf8_bad("\xed\x95\x9c", 2, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_valid_event_decodes_every_field),
        T(test_valid_event_decodes_headers),
        T(test_content_hash_is_xxh3_128_canonical),
        T(test_empty_body_hashes_empty_input),
        T(test_empty_optional_strings_become_null),
        T(test_minimal_event_with_only_url),
        T(test_bounds_of_fetched_at_and_status_accepted),
        T(test_unknown_fields_are_ignored),
        T(test_empty_input_is_empty),
        T(test_null_input_is_empty),
        T(test_garbage_bytes_are_protobuf_error),
        T(test_truncated_message_is_protobuf_error),
        T(test_wrong_wire_type_is_protobuf_error),
        T(test_missing_url_is_field_error),
        T(test_invalid_utf8_in_url),
        T(test_invalid_utf8_at_start_of_url),
        T(test_invalid_utf8_in_final_url),
        T(test_invalid_utf8_in_content_type),
        T(test_invalid_utf8_in_source_id_and_publisher_hint),
        T(test_invalid_utf8_in_header),
        T(test_nul_byte_in_url_is_rejected),
        T(test_negative_fetched_at_rejected),
        T(test_fetched_at_after_year_9999_rejected),
        T(test_http_status_1000_rejected),
        T(test_error_message_fits_small_buffer),
        T(test_status_names),
        T(test_free_null_is_safe),
        T(test_utf8_accepts_valid_text),
        T(test_utf8_rejects_overlong_forms),
        T(test_utf8_rejects_surrogates),
        T(test_utf8_rejects_beyond_u10ffff),
        T(test_utf8_rejects_stray_and_truncated_bytes),
        T(test_utf8_rejects_nul),
        T(test_utf8_checks_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
