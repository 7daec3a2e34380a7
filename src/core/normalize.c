#include "core/normalize.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/buf.h"

#define REPLACEMENT_CHAR 0xFFFD

/* The fast paths' tables, outside normalize.h: tests/unit/test_normalize.c checks them. */
bool nz__nfc_inert(int32_t c);
int nz__key_fast_class(int32_t c);

/*
 * The named references real pages use. HTML5 knows more than two thousand;
 * these are the ones that turn up in news text (quotes, dashes, spaces,
 * bullets, the Latin-1 signs), plus the upper-case spellings HTML5 accepts for
 * the four markup characters. Anything else stays as written, which is
 * harmless: the text still reads, and the match key drops the '&' and ';'.
 */
typedef struct named_ref {
    const char *name;
    uint32_t codepoint;
} named_ref;

static const named_ref named_refs[] = {
    {"AMP", 0x26},      {"COPY", 0xA9},     {"Dagger", 0x2021}, {"GT", 0x3E},
    {"LT", 0x3C},       {"Prime", 0x2033},  {"QUOT", 0x22},     {"REG", 0xAE},
    {"acute", 0xB4},    {"amp", 0x26},      {"apos", 0x27},     {"bdquo", 0x201E},
    {"brvbar", 0xA6},   {"bull", 0x2022},   {"cedil", 0xB8},    {"cent", 0xA2},
    {"clubs", 0x2663},  {"copy", 0xA9},     {"curren", 0xA4},   {"dagger", 0x2020},
    {"darr", 0x2193},   {"deg", 0xB0},      {"diams", 0x2666},  {"divide", 0xF7},
    {"emsp", 0x2003},   {"ensp", 0x2002},   {"euro", 0x20AC},   {"frac12", 0xBD},
    {"frac14", 0xBC},   {"frac34", 0xBE},   {"frasl", 0x2044},  {"ge", 0x2265},
    {"gt", 0x3E},       {"harr", 0x2194},   {"hearts", 0x2665}, {"hellip", 0x2026},
    {"hyphen", 0x2010}, {"iexcl", 0xA1},    {"infin", 0x221E},  {"iquest", 0xBF},
    {"laquo", 0xAB},    {"larr", 0x2190},   {"ldquo", 0x201C},  {"le", 0x2264},
    {"loz", 0x25CA},    {"lrm", 0x200E},    {"lsaquo", 0x2039}, {"lsquo", 0x2018},
    {"lt", 0x3C},       {"macr", 0xAF},     {"mdash", 0x2014},  {"micro", 0xB5},
    {"middot", 0xB7},   {"minus", 0x2212},  {"nbsp", 0xA0},     {"ndash", 0x2013},
    {"ne", 0x2260},     {"not", 0xAC},      {"ordf", 0xAA},     {"ordm", 0xBA},
    {"para", 0xB6},     {"permil", 0x2030}, {"plusmn", 0xB1},   {"pound", 0xA3},
    {"prime", 0x2032},  {"quot", 0x22},     {"raquo", 0xBB},    {"rarr", 0x2192},
    {"rdquo", 0x201D},  {"reg", 0xAE},      {"rlm", 0x200F},    {"rsaquo", 0x203A},
    {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"sect", 0xA7},     {"shy", 0xAD},
    {"spades", 0x2660}, {"star", 0x2606},   {"starf", 0x2605},  {"sup1", 0xB9},
    {"sup2", 0xB2},     {"sup3", 0xB3},     {"thinsp", 0x2009}, {"times", 0xD7},
    {"trade", 0x2122},  {"uarr", 0x2191},   {"uml", 0xA8},      {"yen", 0xA5},
    {"zwj", 0x200D},    {"zwnj", 0x200C},
};

/* Longest name above; a longer run of letters cannot be a reference we know. */
#define MAX_NAMED_REF 8

/*
 * HTML5 reads &#128; .. &#159; as windows-1252, because that is what pages
 * written on Windows meant by them (&#150; is an en dash, not a C1 control).
 * Zero marks the five bytes windows-1252 leaves undefined: those keep their
 * code point.
 */
static const uint16_t c1_as_windows_1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static void append_codepoint(sd_buf *buf, int32_t codepoint)
{
    utf8proc_uint8_t bytes[4];
    utf8proc_ssize_t n = utf8proc_encode_char(codepoint, bytes);
    sd_buf_append(buf, bytes, (size_t)n);
}

static bool is_ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Reads a numeric reference at text[0..len) (just after "&#"). On success
 * stores the code point to emit and the number of bytes consumed (the ';' is
 * optional, as HTML5 reads it) and returns true; returns false when no digit
 * follows, so the text stays as written.
 */
static bool read_numeric_ref(const char *text, size_t len, int32_t *codepoint, size_t *used)
{
    size_t at = 0;
    int base = 10;
    if (at < len && (text[at] == 'x' || text[at] == 'X')) {
        base = 16;
        at++;
    }
    size_t digits_from = at;
    uint32_t value = 0;
    bool too_big = false;
    while (at < len) {
        int digit = base == 16 ? hex_value((unsigned char)text[at])
                               : (text[at] >= '0' && text[at] <= '9' ? text[at] - '0' : -1);
        if (digit < 0)
            break;
        /* Keep consuming digits past U+10FFFF so that "&#99999999999;" is one reference. */
        if (!too_big) {
            value = value * (uint32_t)base + (uint32_t)digit;
            if (value > 0x10FFFF)
                too_big = true;
        }
        at++;
    }
    if (at == digits_from)
        return false;
    if (at < len && text[at] == ';')
        at++;
    if (too_big || value == 0 || (value >= 0xD800 && value <= 0xDFFF))
        value = REPLACEMENT_CHAR;
    else if (value >= 0x80 && value <= 0x9F && c1_as_windows_1252[value - 0x80])
        value = c1_as_windows_1252[value - 0x80];
    *codepoint = (int32_t)value;
    *used = at;
    return true;
}

/*
 * Reads a named reference at text[0..len) (just after "&"). Only the
 * terminated form ("&amp;") is read: without the ';' a run of letters after
 * '&' is too often part of a url's query ("?a=1&copy=2") to be decoded.
 */
static bool read_named_ref(const char *text, size_t len, int32_t *codepoint, size_t *used)
{
    size_t name_len = 0;
    while (name_len < len && name_len <= MAX_NAMED_REF &&
           is_ascii_alnum((unsigned char)text[name_len]))
        name_len++;
    if (name_len == 0 || name_len > MAX_NAMED_REF || name_len >= len || text[name_len] != ';')
        return false;
    for (size_t i = 0; i < sizeof(named_refs) / sizeof(named_refs[0]); i++) {
        if (strlen(named_refs[i].name) == name_len &&
            memcmp(named_refs[i].name, text, name_len) == 0) {
            *codepoint = (int32_t)named_refs[i].codepoint;
            *used = name_len + 1;
            return true;
        }
    }
    return false;
}

/* Decodes references into buf; bytes that are not part of a reference are copied as they are. */
static void decode_entities_into(sd_buf *buf, const char *text, size_t len)
{
    size_t at = 0;
    while (at < len) {
        const char *amp = memchr(text + at, '&', len - at);
        size_t plain = amp ? (size_t)(amp - (text + at)) : len - at;
        sd_buf_append(buf, text + at, plain);
        at += plain;
        if (at >= len)
            break;
        /* text[at] is '&'. */
        int32_t codepoint;
        size_t used;
        bool numeric = at + 1 < len && text[at + 1] == '#';
        size_t prefix = numeric ? 2 : 1;
        bool ok = numeric ? read_numeric_ref(text + at + 2, len - at - 2, &codepoint, &used)
                          : read_named_ref(text + at + 1, len - at - 1, &codepoint, &used);
        if (ok) {
            append_codepoint(buf, codepoint);
            at += prefix + used;
        } else {
            sd_buf_append_char(buf, '&');
            at++;
        }
    }
}

/* Returns a buffer's string to the caller, or NULL (and frees it) if an append failed. */
static char *finish(sd_buf *buf, size_t *out_len)
{
    sd_buf_append(buf, "", 0); /* so that an empty result is an allocated "" */
    if (buf->failed) {
        sd_buf_release(buf);
        return NULL;
    }
    if (out_len)
        *out_len = buf->len;
    return buf->data;
}

char *nz_decode_entities(const char *text, size_t len, size_t *out_len)
{
    sd_buf buf;
    sd_buf_init(&buf);
    decode_entities_into(&buf, text, len);
    return finish(&buf, out_len);
}

/*
 * Reads the code point at text[at..len) into *codepoint and returns its
 * length. The contract says the text is valid UTF-8, but nothing input can
 * cause may crash or vanish silently: an invalid byte reads as U+FFFD and
 * counts as one byte, so the walk always advances.
 */
static size_t next_codepoint(const char *text, size_t len, size_t at, int32_t *codepoint)
{
    utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)text + at,
                                             (utf8proc_ssize_t)(len - at), codepoint);
    if (step <= 0) {
        *codepoint = REPLACEMENT_CHAR;
        return 1;
    }
    return (size_t)step;
}

/* Characters that separate lines: turned into '\n' under NZ_KEEP_NEWLINES, into a space otherwise.
 */
static bool is_line_break(int32_t c)
{
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 || c == 0x2028 ||
           c == 0x2029;
}

/*
 * Removed from display text. The zero-width characters (U+200B..U+200D,
 * U+2060, U+FEFF) and the soft hyphen are all format characters (Cf), so
 * checking the categories covers them; they are listed anyway because
 * removing them is the point, whatever a future Unicode version says.
 */
static bool is_invisible(int32_t c)
{
    if ((c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF || c == 0xAD)
        return true;
    utf8proc_category_t category = utf8proc_category(c);
    return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF;
}

static bool is_space(int32_t c)
{
    return c == '\t' || utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

/*
 * Filters text into buf: invisible characters removed, each run of
 * whitespace turned into one space, or into one '\n' when it holds a line
 * break and newlines are kept, nothing at either end. Composition comes
 * after this, so that removing a zero-width character between a letter and
 * its combining mark still yields the composed letter.
 */
static void filter_display(sd_buf *buf, const char *text, size_t len, bool keep_newlines)
{
    enum { GAP_NONE, GAP_SPACE, GAP_NEWLINE } gap = GAP_NONE;
    bool started = false;
    size_t at = 0;
    while (at < len) {
        /* Fast path: a run of printable ASCII goes as it is. */
        unsigned char b = (unsigned char)text[at];
        if (b > 0x20 && b < 0x7f) {
            size_t end = at + 1;
            while (end < len && (unsigned char)text[end] > 0x20 && (unsigned char)text[end] < 0x7f)
                end++;
            if (started && gap != GAP_NONE)
                sd_buf_append_char(buf, gap == GAP_NEWLINE ? '\n' : ' ');
            gap = GAP_NONE;
            started = true;
            sd_buf_append(buf, text + at, end - at);
            at = end;
            continue;
        }
        int32_t c;
        size_t step = b < 0x80 ? 1 : next_codepoint(text, len, at, &c);
        if (b < 0x80)
            c = b;
        bool valid = c != REPLACEMENT_CHAR || step == 3;
        at += step;
        if (is_line_break(c)) {
            gap = keep_newlines ? GAP_NEWLINE : (gap == GAP_NONE ? GAP_SPACE : gap);
            continue;
        }
        if (is_space(c)) {
            if (gap == GAP_NONE)
                gap = GAP_SPACE;
            continue;
        }
        if (is_invisible(c))
            continue;
        if (started && gap != GAP_NONE)
            sd_buf_append_char(buf, gap == GAP_NEWLINE ? '\n' : ' ');
        gap = GAP_NONE;
        started = true;
        if (valid) /* the bytes read are the code point's encoding */
            sd_buf_append(buf, text + at - step, step);
        else
            append_codepoint(buf, c);
    }
}

/*
 * Code points NFC leaves alone wherever they stand: canonical quick check Yes, combining class
 * 0, and none combines with a neighbour (no mark, no jamo, no kana voicing mark): ASCII and the
 * rest below U+0300, general punctuation, CJK symbols, compatibility jamo, Hangul syllables,
 * CJK ideographs, fullwidth forms. A text made only of them is its own NFC.
 * tests/unit/test_normalize.c checks every one of them against utf8proc.
 */
bool nz__nfc_inert(int32_t c)
{
    return c < 0x300 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
           (c >= 0x3000 && c <= 0x3029) || (c >= 0x3131 && c <= 0x318E) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) ||
           (c >= 0xFF01 && c <= 0xFF60);
}

/* True when every code point of the (valid UTF-8) text is NFC-inert. */
static bool all_nfc_inert(const char *text, size_t len)
{
    for (size_t at = 0; at < len;) {
        if ((unsigned char)text[at] < 0x80) {
            at++;
            continue;
        }
        int32_t c;
        at += next_codepoint(text, len, at, &c);
        if (!nz__nfc_inert(c))
            return false;
    }
    return true;
}

/* Runs utf8proc over buf's contents with the given options; returns NULL when out of memory. */
static char *map_utf8proc(const char *text, size_t len, utf8proc_option_t options, size_t *out_len)
{
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)(text ? text : ""),
                                      (utf8proc_ssize_t)len, &mapped, options);
    /* The input is valid UTF-8 by construction, so an error here means memory ran out. */
    if (n < 0) {
        free(mapped);
        return NULL;
    }
    if (out_len)
        *out_len = (size_t)n;
    return (char *)mapped;
}

char *nz_display(const char *text, size_t len, unsigned flags, size_t *out_len)
{
    sd_buf decoded, filtered;
    sd_buf_init(&decoded);
    sd_buf_init(&filtered);
    char *result = NULL;
    if (flags & NZ_DECODE_ENTITIES) {
        decode_entities_into(&decoded, text, len);
        if (decoded.failed)
            goto fail;
        text = decoded.data ? decoded.data : "";
        len = decoded.len;
    }
    filter_display(&filtered, text, len, flags & NZ_KEEP_NEWLINES);
    if (filtered.failed)
        goto fail;
    if (all_nfc_inert(filtered.data, filtered.len)) { /* already NFC: no utf8proc_map */
        result = finish(&filtered, out_len);
        sd_buf_init(&filtered);
        goto fail;
    }
    result = map_utf8proc(filtered.data, filtered.len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, out_len);

fail:
    sd_buf_release(&decoded);
    sd_buf_release(&filtered);
    return result;
}

/*
 * Dropped from match keys: punctuation (P*), symbols (S*), separators (Z*),
 * other (C*: controls, format, private use, unassigned), as the project's
 * scorer does (tools/score_stories.py).
 */
static bool is_key_noise(int32_t c)
{
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
        return true;
    default:
        return false;
    }
}

/*
 * Tells whether c combines with the character before it: a mark, or a
 * Hangul vowel or final consonant jamo (which compose algorithmically, not
 * through combining classes).
 */
static bool combines_backward(int32_t c)
{
    if ((c >= 0x1160 && c <= 0x11FF) || (c >= 0xD7B0 && c <= 0xD7FF))
        return true;
    utf8proc_category_t category = utf8proc_category(c);
    return category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_MC ||
           category == UTF8PROC_CATEGORY_ME;
}

/*
 * Removes the noise characters from text[0..*len) in place. Returns true
 * when a removal brought a character that combines backward next to a new
 * neighbour (jamo around a zero-width space, say), which calls for another
 * round of normalization.
 */
static bool drop_key_noise(char *text, size_t *len)
{
    size_t kept = 0, at = 0;
    bool removed = false, recompose = false;
    while (at < *len) {
        int32_t c;
        size_t step = next_codepoint(text, *len, at, &c);
        if (is_key_noise(c)) {
            removed = true;
        } else {
            if (removed && kept > 0 && combines_backward(c))
                recompose = true;
            removed = false;
            memmove(text + kept, text + at, step);
            kept += step;
        }
        at += step;
    }
    text[kept] = '\0';
    *len = kept;
    return recompose;
}

/*
 * The key is NFKC with case folding, then the noise categories removed. The
 * header's "quote, dash and ellipsis styles unified" needs no table of its
 * own: every quote style (‘’‚‛“”„‟«»「」『』〈〉 ' "), every dash and the
 * ellipsis are punctuation or symbols, so unifying them and then removing
 * punctuation is the same as removing them, and the tests check each style.
 * STRIPMARK is deliberately not used: it would decompose Hangul syllables
 * into jamo and lose the Korean text's identity. IGNORE is not used either:
 * it removes the Hangul filler letters, which the scorer keeps.
 * When a removal leaves jamo or a mark next to a new neighbour, the text is
 * normalized again, so that the key of a key is the key itself.
 */
/*
 * Code points whose key is known without utf8proc: kept as they are (1: lower-case Latin-1
 * letters, kana, Hangul syllables and CJK ideographs: NFKC and case folding leave them, and
 * nothing but a mark composes with them), lower-cased (2: upper-case Latin-1 letters, whose
 * lower case is 0x20 above, two UTF-8 bytes both) or dropped (-1: punctuation, spaces and
 * symbols whose NFKC is all noise too). ASCII is handled inline. A text with a mark never takes
 * the fast path. tests/unit/test_normalize.c checks every one of them against utf8proc.
 */
int nz__key_fast_class(int32_t c)
{
    if ((c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x4E00 && c <= 0x9FFF) ||
        (c >= 0xE0 && c <= 0xFF && c != 0xF7) || (c >= 0x3041 && c <= 0x3096) ||
        (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC)
        return 1;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return 2;
    if (c == 0xA0 || c == 0xB7 || (c >= 0x2010 && c <= 0x2016) || (c >= 0x2018 && c <= 0x2027) ||
        (c >= 0x2030 && c <= 0x203D) || (c >= 0x203F && c <= 0x205E) ||
        (c >= 0x3000 && c <= 0x3003))
        return -1;
    return 0;
}

/*
 * The key of a text made only of ASCII and the code points above, or NULL (*done false) when
 * the text has others and needs utf8proc. ASCII letters are lower-cased, digits kept, the rest
 * of ASCII (punctuation, symbols, spaces, controls) dropped.
 */
static char *fast_key(const char *text, size_t len, size_t *out_len, bool *done)
{
    *done = false;
    for (size_t at = 0; at < len;) {
        if ((unsigned char)text[at] < 0x80) {
            at++;
            continue;
        }
        int32_t c;
        utf8proc_ssize_t step =
            utf8proc_iterate((const utf8proc_uint8_t *)text + at, (utf8proc_ssize_t)(len - at), &c);
        if (step <= 0 || nz__key_fast_class(c) == 0)
            return NULL;
        at += (size_t)step;
    }
    *done = true;
    char *key = malloc(len + 1);
    if (!key)
        return NULL;
    size_t n = 0;
    for (size_t at = 0; at < len;) {
        unsigned char b = (unsigned char)text[at];
        if (b < 0x80) {
            if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z'))
                key[n++] = (char)b;
            else if (b >= 'A' && b <= 'Z')
                key[n++] = (char)(b - 'A' + 'a');
            at++;
            continue;
        }
        int32_t c;
        size_t step = (size_t)utf8proc_iterate((const utf8proc_uint8_t *)text + at,
                                               (utf8proc_ssize_t)(len - at), &c);
        int kind = nz__key_fast_class(c);
        if (kind == 2) { /* U+00C0..U+00DE: 0xC3 0x80..0x9E, lower case 0xC3 0xA0..0xBE */
            key[n++] = text[at];
            key[n++] = (char)(text[at + 1] + 0x20);
        } else if (kind > 0) {
            memcpy(key + n, text + at, step);
            n += step;
        }
        at += step;
    }
    key[n] = '\0';
    if (out_len)
        *out_len = n;
    return key;
}

char *nz_match_key(const char *text, size_t len, size_t *out_len)
{
    bool done;
    char *fast = fast_key(text, len, out_len, &done);
    if (done)
        return fast; /* NULL here means memory ran out */
    sd_buf clean;
    sd_buf_init(&clean);
    char *key = NULL;
    /* Invalid bytes become U+FFFD first, which utf8proc needs and the key then drops. */
    size_t at = 0;
    while (at < len) {
        int32_t c;
        at += next_codepoint(text, len, at, &c);
        append_codepoint(&clean, c);
    }
    if (clean.failed)
        goto fail;
    const utf8proc_option_t nfkc_casefold =
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
    size_t key_len;
    key = map_utf8proc(clean.data, clean.len, nfkc_casefold, &key_len);
    /* One more round settles every real text; the bound only guards against a pathological one. */
    int rounds = 0;
    while (key && drop_key_noise(key, &key_len) && rounds++ < 4) {
        char *again = map_utf8proc(key, key_len, nfkc_casefold, &key_len);
        free(key);
        key = again;
    }
    if (key && out_len)
        *out_len = key_len;

fail:
    sd_buf_release(&clean);
    return key;
}
