/*
 * Decoding of page events as they arrive from Kafka, in every wire format:
 * AUTO (sniffed, and with each content-type the selector knows) and each
 * forced format, so that the Confluent header reader, the JSON converter and
 * the protobuf decoder all see every input.
 */
#include <stdint.h>
#include <string.h>

#include "core/page_event.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What decodes must be what PostgreSQL accepts: valid UTF-8 without NUL, in a known format. */
static void check(const pe_page_event *event)
{
    size_t bad;
    if (!event->url || !sd_utf8_valid(event->url, strlen(event->url), &bad))
        __builtin_trap();
    if (event->final_url && !sd_utf8_valid(event->final_url, strlen(event->final_url), &bad))
        __builtin_trap();
    if (event->format != PE_FORMAT_PROTOBUF && event->format != PE_FORMAT_CONFLUENT &&
        event->format != PE_FORMAT_JSON)
        __builtin_trap();
    if ((event->format == PE_FORMAT_CONFLUENT) != (event->schema_id >= 0))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        pe_format format;
        const char *content_type;
    } runs[] = {
        {PE_FORMAT_AUTO, NULL},
        {PE_FORMAT_AUTO, "application/json"},
        {PE_FORMAT_AUTO, "application/vnd.confluent.protobuf"},
        {PE_FORMAT_PROTOBUF, NULL},
        {PE_FORMAT_CONFLUENT, NULL},
        {PE_FORMAT_JSON, NULL},
    };
    char err[256];
    pe_page_event *event = NULL;
    if (pe_decode(data, size, &event, err, sizeof(err)) == PE_OK) {
        check(event);
        pe_free(event);
    }
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        if (pe_decode_message(data, size, runs[i].format, runs[i].content_type, &event, err,
                              sizeof(err)) == PE_OK) {
            check(event);
            pe_free(event);
        }
    }
    return 0;
}
