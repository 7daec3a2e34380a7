/*
 * Decoding of page events from Kafka message bytes: raw storyd.v1.PageEvent
 * protobuf, the same in Confluent Schema Registry framing, or one JSON object
 * (docs/wire-formats.md). Pure: no I/O, no logging; failures come back as an
 * error class and a message naming the field or byte offset.
 */
#ifndef SD_CORE_PAGE_EVENT_H
#define SD_CORE_PAGE_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* The latest time storyd stores: 9999-12-31T23:59:59.999Z, in Unix epoch milliseconds. */
#define PE_MAX_TIMESTAMP_MS 253402300799999LL

typedef enum {
    PE_OK = 0,
    PE_ERR_EMPTY = -1,    /* the message has no value */
    PE_ERR_PROTOBUF = -2, /* the bytes are not a PageEvent */
    PE_ERR_FIELD = -3,    /* a PageEvent, but a field breaks the contract */
    PE_ERR_NOMEM = -4,
    PE_ERR_FRAMING =
        -5, /* a Confluent wire-format header that is truncated or names another message */
    PE_ERR_JSON = -6,  /* not a JSON object, or a key of the wrong type */
    PE_ERR_LIMIT = -7, /* larger than the caller takes (set by the caller, not the decoder) */
} pe_status;

/*
 * The wire format of a message. PE_FORMAT_AUTO is only an input to
 * pe_decode_message; a decoded event always records the concrete format.
 */
typedef enum {
    PE_FORMAT_INVALID = -1, /* what pe_format_parse returns for an unknown name */
    PE_FORMAT_AUTO = 0,
    PE_FORMAT_PROTOBUF,  /* raw storyd.v1.PageEvent bytes */
    PE_FORMAT_CONFLUENT, /* 0x00, schema id, message indexes, then the protobuf bytes */
    PE_FORMAT_JSON,      /* one JSON object with the keys `storyd produce` reads */
} pe_format;

typedef struct pe_header {
    const char *name;  /* borrowed from the event */
    const char *value; /* borrowed from the event */
} pe_header;

/* A decoded page event. Every pointer is owned by the event and valid until pe_free. */
typedef struct pe_page_event {
    const char *url;
    const char *final_url;    /* NULL when there was no redirect */
    int64_t fetched_at_ms;    /* 0 when unknown */
    uint32_t http_status;     /* 0 when unknown */
    const char *content_type; /* NULL when absent */
    const uint8_t *body;
    size_t body_len;
    const char *source_id;      /* NULL when absent */
    const char *publisher_hint; /* NULL when absent */
    const pe_header *headers;
    size_t header_count;
    uint8_t content_hash[16]; /* XXH3-128 of body, big-endian canonical form */
    pe_format format;         /* how the message came: PROTOBUF, CONFLUENT or JSON */
    int32_t schema_id;        /* the Schema Registry id of a CONFLUENT message, else -1 */
    void *message;            /* the unpacked protobuf message */
} pe_page_event;

/*
 * Decodes len bytes of raw protobuf (PE_FORMAT_PROTOBUF). On PE_OK *out is a new event (free with
 * pe_free); otherwise *out is NULL and err holds a message naming the field or offset.
 */
pe_status pe_decode(const uint8_t *data, size_t len, pe_page_event **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Decodes one Kafka message value in the given format. PE_FORMAT_AUTO lets
 * content_type (the message's "content-type" header, borrowed, may be NULL)
 * decide when it names a known media type, and otherwise sniffs the first
 * bytes: 0x00 is Confluent framing, '{' is JSON, anything else raw protobuf.
 * A forced format decodes only that format. Every format ends in the same
 * field contract checks as pe_decode. On PE_OK *out is a new event (free with
 * pe_free) whose format and schema_id say what came; otherwise *out is NULL
 * and err names the field or byte offset. A format value outside the enum
 * (PE_FORMAT_INVALID included) is the caller's mistake and gives PE_ERR_FRAMING.
 */
pe_status pe_decode_message(const uint8_t *data, size_t len, pe_format format,
                            const char *content_type, pe_page_event **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * The Confluent wire-format header of a framed message, as read by
 * pe_confluent_header: the payload starts at data + payload_offset.
 */
typedef struct pe_confluent_frame {
    int32_t schema_id;
    size_t payload_offset;
} pe_confluent_frame;

/*
 * Reads and checks the Confluent header of len bytes: magic byte 0x00, a
 * 4-byte big-endian schema id, and message indexes that must name the first
 * message of the schema ([0], written as the single byte 0x00 or as count 1,
 * index 0). Returns PE_OK, or PE_ERR_EMPTY / PE_ERR_FRAMING with err naming
 * the byte offset.
 */
pe_status pe_confluent_header(const uint8_t *data, size_t len, pe_confluent_frame *frame, char *err,
                              size_t errlen) __attribute__((warn_unused_result));

/* "auto", "protobuf", "confluent" or "json" (exact, lower case); PE_FORMAT_INVALID otherwise. */
pe_format pe_format_parse(const char *name);

/* The name pe_format_parse reads, for logs and rows; "invalid" for anything else. */
const char *pe_format_name(pe_format format);

/*
 * The format a "content-type" header value names: application/json (or any
 * +json type) is JSON, application/x-protobuf, application/protobuf and
 * application/vnd.google.protobuf are raw protobuf, and any media type with
 * "confluent" in it (application/vnd.confluent.protobuf) is Confluent
 * framing. Parameters, case and surrounding spaces are ignored. NULL, empty
 * or anything else gives PE_FORMAT_AUTO: the bytes decide.
 */
pe_format pe_format_from_content_type(const char *content_type);

void pe_free(pe_page_event *event);

/* A short stable name for an error class, for counters and dead letters ("protobuf", ...). */
const char *pe_status_name(pe_status status);

#endif
