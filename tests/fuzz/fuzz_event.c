/* Decoding of raw page events (protobuf) as they arrive from Kafka. */
#include <stdint.h>
#include <string.h>

#include "core/page_event.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pe_page_event *event = NULL;
    char err[256];
    if (pe_decode(data, size, &event, err, sizeof(err)) == PE_OK) {
        /* What decodes must be what PostgreSQL accepts: valid UTF-8 without NUL. */
        size_t bad;
        if (!event->url || !sd_utf8_valid(event->url, strlen(event->url), &bad))
            __builtin_trap();
        pe_free(event);
    }
    return 0;
}
