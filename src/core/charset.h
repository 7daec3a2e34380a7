/*
 * Charsets: find what a body says it is, and turn it into valid UTF-8.
 * Pure (iconv converts in memory). Korean pages still come in EUC-KR/CP949,
 * sometimes labelled wrongly; every invalid byte becomes U+FFFD and is
 * counted, nothing is dropped silently and nothing crashes.
 */
#ifndef SD_CORE_CHARSET_H
#define SD_CORE_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cs_result {
    char *text; /* valid UTF-8 without NUL bytes, NUL-terminated; owned, free() */
    size_t len;
    size_t replaced;    /* U+FFFD written for invalid or unconvertible bytes (NUL bytes too): one
                         * per byte through iconv, one per maximal invalid subpart of UTF-8 */
    char charset[32];   /* what was used: "utf-8", "cp949", "windows-1252", ... */
    bool label_ignored; /* the declared label contradicted the bytes and was overruled */
    bool detected;      /* no label: the charset was guessed from the bytes */
} cs_result;

/*
 * Finds the declared charset: the charset parameter of content_type, else,
 * for HTML, <meta charset=...> or <meta http-equiv=Content-Type
 * content="...charset=..."> within the first 4 KiB. Writes the lower-cased
 * label to out and returns true, or returns false when nothing declares one.
 */
bool cs_declared(const char *content_type, const uint8_t *body, size_t len, bool is_html, char *out,
                 size_t outlen);

/*
 * Converts body to UTF-8. label (may be NULL) is the declared charset;
 * euc-kr, ks_c_5601-1987, x-windows-949, windows-949, uhc and cp949 are all
 * read as CP949 (its superset). Without a label: valid UTF-8 stays UTF-8;
 * otherwise CP949 is tried and kept when it converts cleanly, else the bytes
 * are read as UTF-8 with replacements. A label contradicted by the bytes
 * (EUC-KR labelled bytes that are valid multi-byte UTF-8 and not clean CP949,
 * or "utf-8" labelled bytes that are invalid UTF-8 but clean CP949) is
 * overruled and label_ignored set. An unknown label is treated as no label.
 * The output is capped at max_out bytes (0: no cap); over the cap returns -1.
 * Returns 0 with *out filled (free out->text), or -1 with err filled.
 *
 * Details: a UTF-8 byte order mark outranks the label (label_ignored when
 * they differ) and is removed. iso-8859-1, latin1 and us-ascii are read as
 * windows-1252, as browsers do. NUL bytes are replaced but do not count
 * against a charset when deciding. A label other than the above is passed to
 * iconv only when it is made of letters, digits and "._:-".
 */
int cs_to_utf8(const uint8_t *body, size_t len, const char *label, size_t max_out, cs_result *out,
               char *err, size_t errlen);

#endif
