#include "core/page_event.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/page_event_internal.h"
#include "core/utf8.h"
#include "storyd/v1/page_event.pb-c.h"

/* 9999-12-31T23:59:59.999Z: PostgreSQL's timestamptz goes further, but nothing real does. */
#define MAX_FETCHED_AT_MS PE_MAX_TIMESTAMP_MS

struct pe_event_storage {
    pe_page_event event;
    pe_header headers[];
};

const char *pe_status_name(pe_status status)
{
    switch (status) {
    case PE_OK:
        return "ok";
    case PE_ERR_EMPTY:
        return "empty";
    case PE_ERR_PROTOBUF:
        return "protobuf";
    case PE_ERR_FIELD:
        return "invalid_field";
    case PE_ERR_NOMEM:
        return "out_of_memory";
    case PE_ERR_FRAMING:
        return "framing";
    case PE_ERR_LIMIT:
        return "limit";
    case PE_ERR_JSON:
        return "json";
    }
    return "unknown";
}

/* Checks that a protobuf string field is valid UTF-8; empty fields are fine. */
static int check_text(const char *field, const char *text, char *err, size_t errlen)
{
    size_t bad;
    if (text && !sd_utf8_valid(text, strlen(text), &bad)) {
        snprintf(err, errlen, "field %s is not valid UTF-8 at byte %zu", field, bad);
        return -1;
    }
    return 0;
}

/* Reads one varint; returns false on a truncated or over-long one. */
static bool read_varint(const uint8_t **cursor, const uint8_t *end, uint64_t *out)
{
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && *cursor < end; shift += 7) {
        uint8_t byte = *(*cursor)++;
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = value;
            return true;
        }
    }
    return false;
}

/*
 * protobuf-c hands string fields over NUL-terminated and drops their length,
 * so a NUL inside one would silently cut the value short (a different url).
 * This walks the wire bytes of the string fields of PageEvent (and of its
 * header entries) and reports the first NUL. The message has already been
 * unpacked successfully, so anything unexpected simply ends the walk.
 */
static const char *find_nul_in_strings(const uint8_t *cursor, const uint8_t *end, bool header_entry,
                                       size_t *at)
{
    while (cursor < end) {
        uint64_t key, len;
        if (!read_varint(&cursor, end, &key))
            return NULL;
        uint32_t field = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0:
            if (!read_varint(&cursor, end, &len))
                return NULL;
            continue;
        case 1:
            cursor += 8;
            continue;
        case 5:
            cursor += 4;
            continue;
        case 2:
            if (!read_varint(&cursor, end, &len) || len > (uint64_t)(end - cursor))
                return NULL;
            break;
        default:
            return NULL;
        }
        const uint8_t *payload = cursor;
        cursor += len;
        const char *name = NULL;
        if (header_entry) {
            name = field == 1 ? "headers (name)" : field == 2 ? "headers (value)" : NULL;
        } else {
            static const char *const string_fields[] = {[1] = "url",
                                                        [2] = "final_url",
                                                        [5] = "content_type",
                                                        [7] = "source_id",
                                                        [8] = "publisher_hint"};
            if (field < sizeof(string_fields) / sizeof(string_fields[0]))
                name = string_fields[field];
            if (field == 9) {
                const char *inner = find_nul_in_strings(payload, payload + len, true, at);
                if (inner)
                    return inner;
            }
        }
        const uint8_t *nul = name ? memchr(payload, 0, len) : NULL;
        if (nul) {
            *at = (size_t)(nul - payload);
            return name;
        }
    }
    return NULL;
}

static const char *empty_to_null(const char *text)
{
    return text && text[0] ? text : NULL;
}

pe_status pe_decode(const uint8_t *data, size_t len, pe_page_event **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!data || len == 0) {
        snprintf(err, errlen, "message has no value");
        return PE_ERR_EMPTY;
    }
    return pe_decode_payload(data, len, out, err, errlen);
}

pe_status pe_decode_payload(const uint8_t *data, size_t len, pe_page_event **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    /* protobuf-c reads nothing of a zero-length message, but wants a pointer all the same. */
    if (!data)
        data = (const uint8_t *)"";
    Storyd__V1__PageEvent *msg = storyd__v1__page_event__unpack(NULL, len, data);
    if (!msg) {
        snprintf(err, errlen, "%zu bytes do not decode as storyd.v1.PageEvent", len);
        return PE_ERR_PROTOBUF;
    }
    pe_status status = PE_ERR_FIELD;
    struct pe_event_storage *storage = NULL;
    if (!msg->url || !msg->url[0]) {
        snprintf(err, errlen, "field url is empty");
        goto fail;
    }
    if (check_text("url", msg->url, err, errlen) != 0 ||
        check_text("final_url", msg->final_url, err, errlen) != 0 ||
        check_text("content_type", msg->content_type, err, errlen) != 0 ||
        check_text("source_id", msg->source_id, err, errlen) != 0 ||
        check_text("publisher_hint", msg->publisher_hint, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < msg->n_headers; i++) {
        char field[64];
        snprintf(field, sizeof(field), "headers[%zu]", i);
        if (check_text(field, msg->headers[i]->key, err, errlen) != 0 ||
            check_text(field, msg->headers[i]->value, err, errlen) != 0)
            goto fail;
    }
    size_t nul_at;
    const char *nul_field = find_nul_in_strings(data, data + len, false, &nul_at);
    if (nul_field) {
        snprintf(err, errlen, "field %s contains a NUL character at byte %zu", nul_field, nul_at);
        goto fail;
    }
    if (msg->fetched_at_ms < 0 || msg->fetched_at_ms > MAX_FETCHED_AT_MS) {
        snprintf(err, errlen, "field fetched_at_ms %lld is outside 1970..9999",
                 (long long)msg->fetched_at_ms);
        goto fail;
    }
    if (msg->http_status > 999) {
        snprintf(err, errlen, "field http_status %u is not an HTTP status", msg->http_status);
        goto fail;
    }

    storage = calloc(1, sizeof(*storage) + msg->n_headers * sizeof(pe_header));
    if (!storage) {
        snprintf(err, errlen, "out of memory");
        status = PE_ERR_NOMEM;
        goto fail;
    }
    pe_page_event *event = &storage->event;
    event->message = msg;
    event->url = msg->url;
    event->final_url = empty_to_null(msg->final_url);
    event->fetched_at_ms = msg->fetched_at_ms;
    event->http_status = msg->http_status;
    event->content_type = empty_to_null(msg->content_type);
    event->body = msg->body.data;
    event->body_len = msg->body.len;
    event->source_id = empty_to_null(msg->source_id);
    event->publisher_hint = empty_to_null(msg->publisher_hint);
    for (size_t i = 0; i < msg->n_headers; i++) {
        storage->headers[i].name = msg->headers[i]->key;
        storage->headers[i].value = msg->headers[i]->value;
    }
    event->headers = storage->headers;
    event->header_count = msg->n_headers;
    event->format = PE_FORMAT_PROTOBUF;
    event->schema_id = -1;
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(msg->body.data, msg->body.len));
    memcpy(event->content_hash, canonical.digest, sizeof(event->content_hash));
    *out = event;
    return PE_OK;

fail:
    storyd__v1__page_event__free_unpacked(msg, NULL);
    return status;
}

void pe_free(pe_page_event *event)
{
    if (!event)
        return;
    storyd__v1__page_event__free_unpacked(event->message, NULL);
    /* The event is the first member of its storage block. */
    free(event);
}
