/*
 * Text normalization, keeping display text and match keys apart. Pure;
 * Unicode through utf8proc, never hand-made tables.
 *
 * Display text is what users read: NFC, HTML character references decoded
 * (when asked), zero-width and control characters removed, runs of
 * whitespace collapsed to one space, trimmed.
 * A match key is what comparisons use: NFKC, case-folded, quote, dash and
 * ellipsis styles unified, then punctuation, symbols and spaces removed, so
 * that "“Kimi K2”…" and "\"kimi k2\"..." compare equal.
 */
#ifndef SD_CORE_NORMALIZE_H
#define SD_CORE_NORMALIZE_H

#include <stddef.h>

enum {
    NZ_KEEP_NEWLINES = 1 << 0,   /* keep '\n' (paragraph breaks), collapsing runs of them to one */
    NZ_DECODE_ENTITIES = 1 << 1, /* decode &amp; &#39; &#x27; &nbsp; ... first */
};

/*
 * Returns the display form of text[0..len) (valid UTF-8) as a new string
 * (free with free()), and its length in *out_len when out_len is not NULL.
 * Returns NULL only when out of memory.
 * Whitespace is tab, every space separator (Zs: U+00A0, U+3000, ...) and the
 * line breaks ('\n', '\r', VT, FF, U+0085, U+2028, U+2029); without
 * NZ_KEEP_NEWLINES a line break is a space like the others. Other Cc and Cf
 * characters are removed. An invalid byte reads as U+FFFD rather than failing.
 */
char *nz_display(const char *text, size_t len, unsigned flags, size_t *out_len);

/*
 * Returns the match key of text[0..len) as a new string, or NULL when out of
 * memory. Character references are not decoded here: pass display text.
 */
char *nz_match_key(const char *text, size_t len, size_t *out_len);

/*
 * Decodes HTML character references: numeric (&#39; &#x27;) and the named
 * ones real pages use (amp, lt, gt, quot, apos, nbsp, middot, hellip, lsquo,
 * rsquo, ldquo, rdquo, ndash, mdash, bull, copy, reg, trade, laquo, raquo,
 * times, ...). Unknown or malformed references stay as they are; a
 * reference to NUL, a surrogate or beyond U+10FFFF becomes U+FFFD.
 * As in HTML5, a numeric reference may omit the ';' and &#128;..&#159; mean
 * their windows-1252 characters (&#150; is an en dash); a named one needs
 * its ';' ("?a=1&copy=2" stays as written).
 * Returns a new string or NULL when out of memory.
 */
char *nz_decode_entities(const char *text, size_t len, size_t *out_len);

#endif
