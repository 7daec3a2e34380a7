/*
 * Decoding of raw page events (storyd.v1.PageEvent) from Kafka message bytes.
 * Pure: no I/O, no logging; failures come back as an error class and message.
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
} pe_status;

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
    void *message;            /* the unpacked protobuf message */
} pe_page_event;

/*
 * Decodes len bytes. On PE_OK *out is a new event (free with pe_free);
 * otherwise *out is NULL and err holds a message naming the field or offset.
 */
pe_status pe_decode(const uint8_t *data, size_t len, pe_page_event **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void pe_free(pe_page_event *event);

/* A short stable name for an error class, for counters and dead letters ("protobuf", ...). */
const char *pe_status_name(pe_status status);

#endif
