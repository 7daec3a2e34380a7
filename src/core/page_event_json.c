#include "core/page_event_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "storyd/v1/page_event.pb-c.h"

/* Reads n decimal digits at text; returns -1 when any of them is not a digit. */
static int read_digits(const char *text, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). Computed here rather than with timegm so that the result
 * does not depend on the C library's time_t range or the machine's zone.
 */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int pe_rfc3339_to_ms(const char *text, int64_t *out_ms)
{
    /* Fixed positions: YYYY-MM-DDTHH:MM:SS is 19 characters; strlen guards every read below. */
    size_t len = strlen(text);
    if (len < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':')
        return -1;
    int year = read_digits(text, 4), month = read_digits(text + 5, 2),
        day = read_digits(text + 8, 2), hour = read_digits(text + 11, 2),
        minute = read_digits(text + 14, 2), second = read_digits(text + 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60 || day > days_in_month(year, month))
        return -1;
    const char *rest = text + 19;
    int64_t millis = 0;
    if (*rest == '.') {
        int digits = 0;
        rest++;
        if (*rest < '0' || *rest > '9')
            return -1;
        for (; *rest >= '0' && *rest <= '9'; rest++) {
            if (digits < 3) {
                millis = millis * 10 + (*rest - '0');
                digits++;
            }
        }
        for (; digits < 3; digits++)
            millis *= 10;
    }
    int offset_minutes = 0;
    if (*rest == 'Z' || *rest == 'z') {
        rest++;
    } else if (*rest == '+' || *rest == '-') {
        if (strlen(rest) != 6 || rest[3] != ':')
            return -1;
        int hours = read_digits(rest + 1, 2), minutes = read_digits(rest + 4, 2);
        if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59)
            return -1;
        offset_minutes = (hours * 60 + minutes) * (*rest == '-' ? -1 : 1);
        rest += 6;
    } else {
        return -1;
    }
    if (*rest != '\0')
        return -1;
    /* A leap second (:60) counts as the next second's start, as timegm would normalise it. */
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                      second - (int64_t)offset_minutes * 60;
    *out_ms = seconds * 1000 + millis;
    return 0;
}

/*
 * Reads an optional string key into *value (borrowed from object; "" when
 * absent or null, which is what protobuf-c packs as an absent field).
 */
static int opt_string(const json_t *object, const char *key, char **value, char *err, size_t errlen)
{
    json_t *item = json_object_get(object, key);
    *value = "";
    if (!item || json_is_null(item))
        return 0;
    if (!json_is_string(item)) {
        snprintf(err, errlen, "key %s: expected a string", key);
        return -1;
    }
    *value = (char *)json_string_value(item);
    return 0;
}

static int read_fetched_at(const json_t *object, int64_t *out_ms, char *err, size_t errlen)
{
    json_t *fetched = json_object_get(object, "fetched_at");
    if (json_is_integer(fetched)) {
        *out_ms = json_integer_value(fetched);
    } else if (json_is_string(fetched)) {
        if (pe_rfc3339_to_ms(json_string_value(fetched), out_ms) != 0) {
            snprintf(err, errlen, "key fetched_at: '%s' is not RFC 3339 time",
                     json_string_value(fetched));
            return -1;
        }
    } else if (fetched && !json_is_null(fetched)) {
        snprintf(err, errlen, "key fetched_at: expected RFC 3339 text or epoch milliseconds");
        return -1;
    }
    return 0;
}

static int read_http_status(const json_t *object, uint32_t *out, char *err, size_t errlen)
{
    json_t *status = json_object_get(object, "http_status");
    if (!status || json_is_null(status))
        return 0;
    /*
     * Only what fits the protobuf field is taken here; whether it is an HTTP
     * status (0..999) is the field contract, checked once by pe_decode.
     */
    if (!json_is_integer(status) || json_integer_value(status) < 0 ||
        json_integer_value(status) > (json_int_t)UINT32_MAX) {
        snprintf(err, errlen, "key http_status: expected an integer 0..999");
        return -1;
    }
    *out = (uint32_t)json_integer_value(status);
    return 0;
}

/* Points the event's body at the text of "body" or at the bytes of "body_base64" in decoded. */
static int read_body(const json_t *object, ProtobufCBinaryData *body, sd_buf *decoded, char *err,
                     size_t errlen)
{
    json_t *text = json_object_get(object, "body");
    json_t *b64 = json_object_get(object, "body_base64");
    bool has_text = text && !json_is_null(text), has_b64 = b64 && !json_is_null(b64);
    if (has_text && has_b64) {
        snprintf(err, errlen, "keys body and body_base64: give one of them, not both");
        return -1;
    }
    if (has_text) {
        if (!json_is_string(text)) {
            snprintf(err, errlen, "key body: expected a string (or body_base64)");
            return -1;
        }
        body->data = (uint8_t *)json_string_value(text);
        body->len = json_string_length(text);
    } else if (has_b64) {
        if (!json_is_string(b64) || sd_base64_decode(json_string_value(b64), decoded) != 0) {
            snprintf(err, errlen, "key body_base64: not base64");
            return -1;
        }
        body->data = (uint8_t *)decoded->data;
        body->len = decoded->len;
    }
    return 0;
}

pe_status pe_json_to_protobuf(const json_t *object, sd_buf *out, char *err, size_t errlen)
{
    Storyd__V1__PageEvent event = STORYD__V1__PAGE_EVENT__INIT;
    if (!json_is_object(object)) {
        snprintf(err, errlen, "expected a JSON object");
        return PE_ERR_JSON;
    }
    if (opt_string(object, "url", &event.url, err, errlen) != 0 ||
        opt_string(object, "final_url", &event.final_url, err, errlen) != 0 ||
        opt_string(object, "content_type", &event.content_type, err, errlen) != 0 ||
        opt_string(object, "source_id", &event.source_id, err, errlen) != 0 ||
        opt_string(object, "publisher_hint", &event.publisher_hint, err, errlen) != 0 ||
        read_fetched_at(object, &event.fetched_at_ms, err, errlen) != 0 ||
        read_http_status(object, &event.http_status, err, errlen) != 0)
        return PE_ERR_JSON;

    json_t *headers = json_object_get(object, "headers");
    if (headers && !json_is_null(headers) && !json_is_object(headers)) {
        snprintf(err, errlen, "key headers: expected an object of strings");
        return PE_ERR_JSON;
    }
    size_t nheaders = json_is_object(headers) ? json_object_size(headers) : 0;
    sd_buf body;
    sd_buf_init(&body);
    /* One block holds the entries and the pointer array protobuf-c wants. */
    Storyd__V1__PageEvent__HeadersEntry *entries =
        calloc(nheaders ? nheaders : 1, sizeof(*entries) + sizeof(entries));
    pe_status status = PE_ERR_JSON;
    if (!entries) {
        snprintf(err, errlen, "out of memory");
        return PE_ERR_NOMEM;
    }
    Storyd__V1__PageEvent__HeadersEntry **entry_ptrs = (void *)(entries + nheaders);
    if (read_body(object, &event.body, &body, err, errlen) != 0)
        goto done;
    const char *name;
    json_t *value;
    size_t i = 0;
    json_object_foreach((json_t *)headers, name, value)
    {
        if (!json_is_string(value)) {
            snprintf(err, errlen, "key headers.%s: expected a string", name);
            goto done;
        }
        storyd__v1__page_event__headers_entry__init(&entries[i]);
        entries[i].key = (char *)name;
        entries[i].value = (char *)json_string_value(value);
        entry_ptrs[i] = &entries[i];
        i++;
    }
    event.n_headers = nheaders;
    event.headers = entry_ptrs;

    size_t size = storyd__v1__page_event__get_packed_size(&event);
    sd_buf_reset(out);
    uint8_t *packed = malloc(size ? size : 1);
    if (!packed) {
        snprintf(err, errlen, "out of memory");
        status = PE_ERR_NOMEM;
        goto done;
    }
    storyd__v1__page_event__pack(&event, packed);
    sd_buf_append(out, packed, size);
    free(packed);
    if (out->failed) {
        snprintf(err, errlen, "out of memory");
        status = PE_ERR_NOMEM;
        goto done;
    }
    status = PE_OK;
done:
    free(entries);
    sd_buf_release(&body);
    return status;
}
