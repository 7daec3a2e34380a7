/*
 * The wire formats of a page event around the one protobuf decoder: the
 * Confluent Schema Registry framing, JSON objects, and the selector that picks
 * between them (docs/wire-formats.md). Every path ends in pe_decode_payload,
 * so every format passes the same field contract.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "core/page_event.h"
#include "core/page_event_internal.h"
#include "core/page_event_json.h"

/* The Confluent header: magic byte, 4-byte schema id, then the message indexes. */
#define CONFLUENT_MAGIC         0x00
#define CONFLUENT_INDEXES_AT    5
#define CONFLUENT_SHOWN_INDEXES 8

static const struct {
    const char *name;
    pe_format format;
} format_names[] = {
    {"auto", PE_FORMAT_AUTO},
    {"protobuf", PE_FORMAT_PROTOBUF},
    {"confluent", PE_FORMAT_CONFLUENT},
    {"json", PE_FORMAT_JSON},
};

pe_format pe_format_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (strcmp(name, format_names[i].name) == 0)
            return format_names[i].format;
    return PE_FORMAT_INVALID;
}

const char *pe_format_name(pe_format format)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (format_names[i].format == format)
            return format_names[i].name;
    return "invalid";
}

pe_format pe_format_from_content_type(const char *content_type)
{
    if (!content_type)
        return PE_FORMAT_AUTO;
    /* The media type is what comes before any parameters, without surrounding spaces. */
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    size_t len = strcspn(content_type, ";");
    while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
        len--;
    char type[128];
    if (len == 0 || len >= sizeof(type))
        return PE_FORMAT_AUTO;
    for (size_t i = 0; i < len; i++)
        type[i] = (char)(content_type[i] >= 'A' && content_type[i] <= 'Z' ? content_type[i] + 32
                                                                          : content_type[i]);
    type[len] = '\0';
    /* Confluent first: its own media types may end in +json or +protobuf one day. */
    if (strstr(type, "confluent"))
        return PE_FORMAT_CONFLUENT;
    if (strcmp(type, "application/json") == 0 || (len > 5 && strcmp(type + len - 5, "+json") == 0))
        return PE_FORMAT_JSON;
    if (strcmp(type, "application/x-protobuf") == 0 || strcmp(type, "application/protobuf") == 0 ||
        strcmp(type, "application/vnd.google.protobuf") == 0)
        return PE_FORMAT_PROTOBUF;
    return PE_FORMAT_AUTO;
}

/*
 * Reads one zigzag varint of at most 32 bits (Confluent writes the indexes
 * with Java's int varints) at *at. Returns 0, or -1 with err naming the offset.
 */
static int read_zigzag(const uint8_t *data, size_t len, size_t *at, int64_t *out, char *err,
                       size_t errlen)
{
    size_t start = *at;
    uint64_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (*at >= len) {
            snprintf(err, errlen, "Confluent header: varint at byte %zu is truncated", start);
            return -1;
        }
        uint8_t byte = data[(*at)++];
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            if (value > UINT32_MAX)
                break;
            *out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
            return 0;
        }
    }
    snprintf(err, errlen, "Confluent header: varint at byte %zu is longer than 32 bits", start);
    return -1;
}

pe_status pe_confluent_header(const uint8_t *data, size_t len, pe_confluent_frame *frame, char *err,
                              size_t errlen)
{
    if (!data || len == 0) {
        snprintf(err, errlen, "message has no value");
        return PE_ERR_EMPTY;
    }
    if (data[0] != CONFLUENT_MAGIC) {
        snprintf(err, errlen, "byte 0 is 0x%02x, not the Confluent magic byte 0x00", data[0]);
        return PE_ERR_FRAMING;
    }
    if (len < CONFLUENT_INDEXES_AT) {
        snprintf(err, errlen,
                 "Confluent header is truncated: %zu bytes, the schema id needs bytes 1..4", len);
        return PE_ERR_FRAMING;
    }
    uint32_t id = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 |
                  (uint32_t)data[4];
    /* Schema Registry ids are Java ints; a set top bit is no id it hands out. */
    if (id > INT32_MAX) {
        snprintf(err, errlen, "Confluent header: schema id 0x%08" PRIx32 " at byte 1 is negative",
                 id);
        return PE_ERR_FRAMING;
    }
    size_t at = CONFLUENT_INDEXES_AT;
    int64_t count;
    if (at >= len) {
        snprintf(err, errlen,
                 "Confluent header is truncated: the message indexes at byte %zu are missing", at);
        return PE_ERR_FRAMING;
    }
    if (read_zigzag(data, len, &at, &count, err, errlen) != 0)
        return PE_ERR_FRAMING;
    if (count < 0) {
        snprintf(err, errlen,
                 "Confluent header: message-index count %" PRId64 " at byte %d is negative", count,
                 CONFLUENT_INDEXES_AT);
        return PE_ERR_FRAMING;
    }
    /* Every index takes at least one byte, which bounds the loop below by the input. */
    if ((uint64_t)count > len - at) {
        snprintf(err, errlen,
                 "Confluent header: message-index count %" PRId64
                 " at byte %d exceeds the %zu bytes left",
                 count, CONFLUENT_INDEXES_AT, len - at);
        return PE_ERR_FRAMING;
    }
    /*
     * The indexes are the path to the message type inside the schema file:
     * count 0 is the short form of [0]. PageEvent is the first (and only)
     * top-level message of page_event.proto, so any other path is a
     * different message type that merely shares the topic.
     */
    char path[160] = "";
    size_t path_len = 0;
    bool first_message = true;
    size_t bad_at = 0;
    for (int64_t i = 0; i < count; i++) {
        size_t index_at = at;
        int64_t index;
        if (read_zigzag(data, len, &at, &index, err, errlen) != 0)
            return PE_ERR_FRAMING;
        if ((i > 0 || index != 0) && first_message) {
            first_message = false;
            bad_at = index_at;
        }
        if (i < CONFLUENT_SHOWN_INDEXES && path_len < sizeof(path))
            path_len += (size_t)snprintf(path + path_len, sizeof(path) - path_len, "%s%" PRId64,
                                         i ? ", " : "", index);
        else if (i == CONFLUENT_SHOWN_INDEXES && path_len < sizeof(path))
            path_len += (size_t)snprintf(path + path_len, sizeof(path) - path_len, ", ...");
    }
    if (!first_message) {
        snprintf(err, errlen,
                 "Confluent header: message indexes [%s] (byte %zu) name another message than "
                 "storyd.v1.PageEvent, which is [0]",
                 path, bad_at);
        return PE_ERR_FRAMING;
    }
    frame->schema_id = (int32_t)id;
    frame->payload_offset = at;
    return PE_OK;
}

static pe_status decode_confluent(const uint8_t *data, size_t len, pe_page_event **out, char *err,
                                  size_t errlen)
{
    pe_confluent_frame frame;
    pe_status status = pe_confluent_header(data, len, &frame, err, errlen);
    if (status != PE_OK)
        return status;
    char inner[512];
    status = pe_decode_payload(data + frame.payload_offset, len - frame.payload_offset, out, inner,
                               sizeof(inner));
    if (status != PE_OK) {
        snprintf(err, errlen, "Confluent payload at byte %zu (schema id %" PRId32 "): %s",
                 frame.payload_offset, frame.schema_id, inner);
        return status;
    }
    (*out)->format = PE_FORMAT_CONFLUENT;
    (*out)->schema_id = frame.schema_id;
    return PE_OK;
}

/*
 * Parses len bytes as one JSON document. Duplicate keys are refused, since
 * {"url": a, "url": b} has no one meaning; jansson also refuses invalid UTF-8,
 * \u0000 (a NUL would cut the C string short) and anything after the value.
 */
static json_t *parse_json(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        snprintf(err, errlen, "JSON at byte %d (line %d, column %d): %s", jerr.position, jerr.line,
                 jerr.column, jerr.text);
    return root;
}

/* Converts a parsed JSON event (borrowed) to protobuf bytes and decodes them with the contract. */
static pe_status decode_json_value(const json_t *root, pe_page_event **out, char *err,
                                   size_t errlen)
{
    sd_buf packed;
    sd_buf_init(&packed);
    pe_status status = pe_json_to_protobuf(root, &packed, err, errlen);
    if (status == PE_OK)
        status = pe_decode_payload((const uint8_t *)packed.data, packed.len, out, err, errlen);
    sd_buf_release(&packed);
    if (status == PE_OK)
        (*out)->format = PE_FORMAT_JSON;
    return status;
}

static pe_status decode_json(const uint8_t *data, size_t len, pe_page_event **out, char *err,
                             size_t errlen)
{
    json_t *root = parse_json(data, len, err, errlen);
    if (!root)
        return PE_ERR_JSON;
    pe_status status = decode_json_value(root, out, err, errlen);
    json_decref(root);
    return status;
}

static bool is_json_space(uint8_t byte)
{
    return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r';
}

/*
 * AUTO without a telling header. 0x00 starts no protobuf message (field 0 does
 * not exist), and '{' (0x7b) would be field 15 as a start-group, which proto3
 * never writes, so both are certain. Whitespace before '{' is not: "\n{" is
 * also field 1 (url) with a length of 123 bytes, a perfectly good PageEvent.
 * So such bytes are JSON only when they parse as JSON; otherwise they are
 * decoded as protobuf, and when that fails too the JSON error is added.
 */
static pe_status decode_sniffed(const uint8_t *data, size_t len, pe_page_event **out, char *err,
                                size_t errlen)
{
    if (data[0] == CONFLUENT_MAGIC)
        return decode_confluent(data, len, out, err, errlen);
    if (data[0] == '{')
        return decode_json(data, len, out, err, errlen);
    size_t first = 0;
    while (first < len && is_json_space(data[first]))
        first++;
    if (first == 0 || first == len || data[first] != '{')
        return pe_decode_payload(data, len, out, err, errlen);

    char json_err[256];
    json_t *root = parse_json(data, len, json_err, sizeof(json_err));
    if (root) {
        pe_status status = decode_json_value(root, out, err, errlen);
        json_decref(root);
        return status;
    }
    char inner[512];
    pe_status status = pe_decode_payload(data, len, out, inner, sizeof(inner));
    if (status == PE_ERR_PROTOBUF)
        snprintf(err, errlen, "%s; not JSON either: %s", inner, json_err);
    else if (status != PE_OK)
        snprintf(err, errlen, "%s", inner);
    return status;
}

pe_status pe_decode_message(const uint8_t *data, size_t len, pe_format format,
                            const char *content_type, pe_page_event **out, char *err, size_t errlen)
{
    *out = NULL;
    if (format == PE_FORMAT_AUTO)
        format = pe_format_from_content_type(content_type);
    if (!data || len == 0) {
        snprintf(err, errlen, "message has no value");
        return PE_ERR_EMPTY;
    }
    switch (format) {
    case PE_FORMAT_AUTO:
        return decode_sniffed(data, len, out, err, errlen);
    case PE_FORMAT_PROTOBUF:
        return pe_decode_payload(data, len, out, err, errlen);
    case PE_FORMAT_CONFLUENT:
        return decode_confluent(data, len, out, err, errlen);
    case PE_FORMAT_JSON:
        return decode_json(data, len, out, err, errlen);
    case PE_FORMAT_INVALID:
        break;
    }
    snprintf(err, errlen, "format %d is no wire format", (int)format);
    return PE_ERR_FRAMING;
}
