/*
 * JSON page events: the one object per event that `storyd produce` reads and
 * that pe_decode_message accepts as PE_FORMAT_JSON (docs/wire-formats.md).
 * Pure: no I/O, no logging.
 */
#ifndef SD_CORE_PAGE_EVENT_JSON_H
#define SD_CORE_PAGE_EVENT_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/page_event.h"

/*
 * Converts one JSON object (borrowed) into the packed storyd.v1.PageEvent
 * bytes, which replace the contents of out. Keys: url, final_url, fetched_at
 * (RFC 3339 text or epoch milliseconds), http_status, content_type, body
 * (text) or body_base64, source_id, publisher_hint, headers ({name: value});
 * null counts as absent and unknown keys are ignored, as a newer producer's
 * fields are in protobuf. Only types and representability are checked here
 * (PE_ERR_JSON naming the key, or PE_ERR_NOMEM): the field contract is
 * pe_decode's, run on the bytes, so JSON and protobuf events pass one check.
 */
pe_status pe_json_to_protobuf(const json_t *object, sd_buf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Parses RFC 3339 date-time text ("2026-03-02T08:15:00Z", "...08:15:00.25+09:00")
 * into Unix epoch milliseconds; digits beyond milliseconds are dropped.
 * Returns 0, or -1 when the text is not exactly one such time.
 */
int pe_rfc3339_to_ms(const char *text, int64_t *out_ms) __attribute__((warn_unused_result));

#endif
