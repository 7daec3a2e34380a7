/* What the decoders of the wire formats share inside src/core; not for other modules. */
#ifndef SD_CORE_PAGE_EVENT_INTERNAL_H
#define SD_CORE_PAGE_EVENT_INTERNAL_H

#include "core/page_event.h"

/*
 * pe_decode without its empty-message check: zero bytes are a PageEvent with
 * every field at its default, which the field contract then rejects (no url).
 * The Confluent and JSON paths use it because their payload may legitimately
 * pack to nothing. Sets format PE_FORMAT_PROTOBUF and schema_id -1; the caller
 * overwrites them for the format it decoded.
 */
pe_status pe_decode_payload(const uint8_t *data, size_t len, pe_page_event **out, char *err,
                            size_t errlen) __attribute__((warn_unused_result));

#endif
