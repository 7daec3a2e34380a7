#include "core/charset.h"

#include "common/error.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* How far into an HTML body a <meta> may declare the charset, as browsers prescan it. */
#define META_SCAN_BYTES 4096

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[3] = {'\xEF', '\xBF', '\xBD'};

typedef enum cs_kind {
    KIND_NONE, /* no label, or one iconv does not know */
    KIND_UTF8,
    KIND_CP949,
    KIND_WINDOWS_1252,
    KIND_OTHER, /* a label iconv knows; the name is kept */
} cs_kind;

/* Conversion results other than success; CONV_ERROR comes with a message already written. */
enum { CONV_ERROR = -1, CONV_OVER_CAP = -2, CONV_NOMEM = -3 };

/*
 * A growing output buffer with a hard limit, so that a body that would
 * convert to more than the cap is refused before it is all allocated.
 */
typedef struct out_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* never grows beyond this many bytes (SIZE_MAX: no limit) */
} out_buf;

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Makes room for extra more bytes plus a NUL. Returns 0, CONV_NOMEM or CONV_OVER_CAP. */
static int out_reserve(out_buf *out, size_t extra)
{
    if (extra > out->limit || out->len > out->limit - extra)
        return CONV_OVER_CAP;
    if (out->len + extra == SIZE_MAX)
        return CONV_NOMEM;
    size_t need = out->len + extra + 1;
    if (need <= out->cap)
        return 0;
    size_t cap = out->cap ? out->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    /* The limit holds the text; one more byte holds the NUL. */
    if (out->limit != SIZE_MAX && cap > out->limit + 1)
        cap = out->limit + 1;
    char *data = realloc(out->data, cap);
    if (!data)
        return CONV_NOMEM;
    out->data = data;
    out->cap = cap;
    return 0;
}

static int out_append(out_buf *out, const void *data, size_t len)
{
    int rc = out_reserve(out, len);
    if (rc != 0)
        return rc;
    memcpy(out->data + out->len, data, len);
    out->len += len;
    out->data[out->len] = '\0';
    return 0;
}

/*
 * Returns the length of the maximal subpart of an ill-formed UTF-8 sequence
 * at s[0..len) (Unicode 3.9, "U+FFFD substitution of maximal subparts"): the
 * longest prefix that could still start a well-formed sequence, at least one
 * byte. This is what browsers and the WHATWG decoder replace with one U+FFFD.
 */
static size_t invalid_subpart(const uint8_t *s, size_t len)
{
    uint8_t b0 = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0)
            lo = 0xA0;
        else if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        return 1;
    }
    size_t n = 1;
    if (n < len && s[n] >= lo && s[n] <= hi) {
        n++;
        while (n < need && n < len && s[n] >= 0x80 && s[n] <= 0xBF)
            n++;
    }
    /* A complete sequence here would be valid; utf8proc disagreeing must still make progress. */
    return n < need ? n : 1;
}

/*
 * Appends s[0..len) to out as valid UTF-8 without NUL: each ill-formed
 * subpart and each NUL becomes one U+FFFD, counted in *replaced. Valid runs
 * are copied whole.
 */
/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0. Written out because it runs over every byte of every page;
 * it accepts exactly what utf8proc_iterate accepts.
 */
static size_t valid_sequence(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return len >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (len < 3 || (s[2] & 0xc0) != 0x80)
            return 0;
        uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (len < 4 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* True when none of the 8 bytes has its high bit set or is zero. */
static bool plain_ascii_word(const uint8_t *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof(w));
    uint64_t has_zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
    return !(w & 0x8080808080808080ULL) && !has_zero;
}

/*
 * Tells whether s[0..len) is well-formed UTF-8 (NUL bytes count as
 * well-formed here: they are replaced, but say nothing about the charset),
 * stopping at the first ill-formed sequence. Sets *multibyte when a valid
 * non-ASCII character occurs before that.
 */
static bool utf8_well_formed(const uint8_t *s, size_t len, bool *multibyte)
{
    size_t at = 0;
    *multibyte = false;
    while (at < len) {
        if (at + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + at, sizeof(w));
            if (!(w & 0x8080808080808080ULL)) {
                at += 8;
                continue;
            }
        }
        if (s[at] < 0x80) {
            at++;
            continue;
        }
        size_t step = valid_sequence(s + at, len - at);
        if (step == 0)
            return false;
        *multibyte = true;
        at += step;
    }
    return true;
}

static int append_sanitized(out_buf *out, const uint8_t *s, size_t len, size_t *replaced)
{
    size_t at = 0, run = 0;
    while (at < len) {
        size_t bad_len = 0;
        if (at + 8 <= len && plain_ascii_word(s + at)) {
            at += 8;
            continue;
        }
        if (s[at] == 0) {
            bad_len = 1;
        } else if (s[at] >= 0x80) {
            size_t step = valid_sequence(s + at, len - at);
            if (step > 0) {
                at += step;
                continue;
            }
            bad_len = invalid_subpart(s + at, len - at);
        } else {
            at++;
            continue;
        }
        int rc = out_append(out, s + run, at - run);
        if (rc == 0)
            rc = out_append(out, replacement, sizeof(replacement));
        if (rc != 0)
            return rc;
        (*replaced)++;
        at += bad_len;
        run = at;
    }
    return out_append(out, s + run, at - run);
}

/*
 * Converts body from charset `from` to UTF-8 with iconv, appending to out.
 * A byte iconv cannot read (EILSEQ), or a truncated sequence at the end
 * (EINVAL), becomes one U+FFFD and the conversion goes on from the next
 * byte: one per byte, since after a bad byte no decoder knows where the next
 * character starts. The output may still contain NUL; the caller sanitizes.
 */
static int convert_iconv(const char *from, const uint8_t *body, size_t len, out_buf *out,
                         size_t *replaced, char *err, size_t errlen)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1) {
        sd_set_error(err, errlen, "iconv cannot convert from %s", from);
        return CONV_ERROR;
    }
    int rc = 0;
    char *in = (char *)body;
    size_t in_left = len;
    /* CP949 grows by at most half (two bytes to three); start there and grow when told. */
    size_t guess = len > SIZE_MAX / 4 ? len : len + len / 2 + 16;
    if (guess > out->limit)
        guess = out->limit;
    rc = out_reserve(out, guess);
    if (rc != 0)
        goto done;
    bool flushing = false;
    for (;;) {
        char *out_at = out->data + out->len;
        size_t out_left = out->cap - 1 - out->len; /* one byte stays for the NUL */
        size_t result = flushing ? iconv(cd, NULL, NULL, &out_at, &out_left)
                                 : iconv(cd, &in, &in_left, &out_at, &out_left);
        int saved_errno = errno;
        out->len = (size_t)(out_at - out->data);
        out->data[out->len] = '\0';
        if (result != (size_t)-1) {
            if (flushing)
                break;
            /* All input read; stateful charsets may still have to write a final shift. */
            flushing = true;
            continue;
        }
        if (saved_errno == E2BIG) {
            /* Double the room; when the cap allows no more than there is, the text is too long. */
            size_t room = out->cap - 1 - out->len;
            size_t more = out->cap < 64 ? 64 : out->cap;
            if (more > out->limit - out->len)
                more = out->limit - out->len;
            if (more <= room) {
                rc = CONV_OVER_CAP;
                goto done;
            }
            rc = out_reserve(out, more);
            if (rc != 0)
                goto done;
        } else if ((saved_errno == EILSEQ || saved_errno == EINVAL) && !flushing && in_left > 0) {
            rc = out_append(out, replacement, sizeof(replacement));
            if (rc != 0)
                goto done;
            (*replaced)++;
            in++;
            in_left--;
        } else if (saved_errno == EILSEQ || saved_errno == EINVAL) {
            /*
             * glibc's CP949 decoder can report a sequence cut at the very end only once all input
             * is read, or when flushed (found by fuzz_charset: f1 b8 a2 e8). It becomes one
             * U+FFFD and the conversion ends, as a cut sequence anywhere else would.
             */
            rc = out_append(out, replacement, sizeof(replacement));
            if (rc != 0)
                goto done;
            (*replaced)++;
            if (flushing)
                break;
            flushing = true;
        } else {
            sd_set_error(err, errlen, "iconv from %s failed: %s", from, strerror(saved_errno));
            rc = CONV_ERROR;
            goto done;
        }
    }

done:
    iconv_close(cd);
    return rc;
}

/*
 * Tells whether body converts from `from` without a single unreadable byte,
 * without keeping the output: the check behind "clean CP949".
 */
static bool converts_cleanly(const char *from, const uint8_t *body, size_t len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return false;
    char scratch[4096];
    char *in = (char *)body;
    size_t in_left = len;
    bool clean = true;
    while (in_left > 0) {
        char *out_at = scratch;
        size_t out_left = sizeof(scratch);
        if (iconv(cd, &in, &in_left, &out_at, &out_left) != (size_t)-1)
            break;
        if (errno != E2BIG) {
            clean = false;
            break;
        }
    }
    iconv_close(cd);
    return clean;
}

/* The labels of each charset we read ourselves; see charset.h. */
static const char *const cp949_labels[] = {
    "cp949",   "euc-kr",   "euckr",         "ks_c_5601-1987", "ks_c_5601-1989",
    "ksc5601", "ksc_5601", "x-windows-949", "windows-949",    "uhc",
    "ms949",   "korean",   "cseuckr",       "csksc56011987",  "iso-ir-149",
};
static const char *const utf8_labels[] = {"utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"};
/* WHATWG reads all of these as windows-1252, a superset that pages labelled latin-1 really use. */
static const char *const windows_1252_labels[] = {
    "windows-1252", "cp1252", "x-cp1252",   "iso-8859-1",  "iso8859-1",
    "iso_8859-1",   "latin1", "l1",         "us-ascii",    "ascii",
    "cp819",        "ibm819", "iso-ir-100", "csisolatin1", "ansi_x3.4-1968",
};

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, list[i]) == 0)
            return true;
    }
    return false;
}

#define IN_LIST(name, list) in_list(name, list, sizeof(list) / sizeof(list[0]))

/*
 * Copies label trimmed of spaces and quotes and lower-cased to out. Returns
 * false when nothing is left, it does not fit, or it holds anything but
 * printable ASCII (no charset name does, and a NUL would cut it short).
 */
static bool clean_label(const char *label, size_t len, char *out, size_t outlen)
{
    while (len > 0 && (is_html_space(label[0]) || label[0] == '"' || label[0] == '\'')) {
        label++;
        len--;
    }
    while (len > 0 &&
           (is_html_space(label[len - 1]) || label[len - 1] == '"' || label[len - 1] == '\''))
        len--;
    if (len == 0 || !out || len >= outlen)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)label[i] <= ' ' || (unsigned char)label[i] > '~')
            return false;
        out[i] = lower(label[i]);
    }
    out[len] = '\0';
    return true;
}

/*
 * Classifies a declared label. For KIND_OTHER, name receives what iconv is
 * asked for. Only letters, digits and ._:- pass to iconv: anything else is no
 * charset name, and a '/' would let a label ask iconv for //TRANSLIT or
 * //IGNORE behaviour.
 */
static cs_kind classify_label(const char *label, char *name, size_t namelen)
{
    if (!label || !clean_label(label, strlen(label), name, namelen))
        return KIND_NONE;
    if (IN_LIST(name, cp949_labels))
        return KIND_CP949;
    if (IN_LIST(name, utf8_labels))
        return KIND_UTF8;
    if (IN_LIST(name, windows_1252_labels))
        return KIND_WINDOWS_1252;
    for (const char *c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("._:-", *c)))
            return KIND_NONE;
    }
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return KIND_NONE;
    iconv_close(cd);
    return KIND_OTHER;
}

/* Forgets a conversion result that is not going to be used. */
static void out_discard(out_buf *out)
{
    free(out->data);
    out->data = NULL;
    out->len = out->cap = 0;
}

/*
 * Converts body as CP949 into converted, counting unreadable bytes in *bad.
 * When the text would pass the cap, whether it is clean is still needed to
 * pick the charset, so a dry run finds out (*clean) and CONV_OVER_CAP is
 * returned with nothing kept.
 */
static int try_cp949(const uint8_t *body, size_t len, out_buf *converted, size_t *bad, bool *clean,
                     char *err, size_t errlen)
{
    *bad = 0;
    int rc = convert_iconv("CP949", body, len, converted, bad, err, errlen);
    if (rc == CONV_OVER_CAP) {
        out_discard(converted);
        *clean = converts_cleanly("CP949", body, len);
    } else {
        *clean = rc == 0 && *bad == 0;
    }
    return rc;
}

/*
 * Picks the charset and converts. The common cases cost one pass of
 * iconv: a CP949 conversion made to test the bytes is kept when CP949 is
 * the answer.
 */
int cs_to_utf8(const uint8_t *body, size_t len, const char *label, size_t max_out, cs_result *out,
               char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!body && len > 0) {
        sd_set_error(err, errlen, "no body");
        return -1;
    }
    if (!body)
        body = (const uint8_t *)"";
    char name[sizeof(out->charset)];
    cs_kind declared = classify_label(label, name, sizeof(name));
    cs_kind kind = declared;
    out_buf text = {.limit = max_out ? max_out : SIZE_MAX};
    out_buf converted = {.limit = text.limit};
    int rc = 0, trial = 1; /* trial: the result of try_cp949, 1 when not tried */
    size_t cp949_bad = 0;
    bool clean = false, multibyte;
    bool known_well_formed = false; /* the body was checked and is well-formed UTF-8 */

    /* A UTF-8 byte order mark outranks any label, as in browsers; it is not part of the text. */
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        len -= 3;
        kind = KIND_UTF8;
        out->label_ignored = declared != KIND_NONE && declared != KIND_UTF8;
        out->detected = declared == KIND_NONE;
    } else {
        switch (declared) {
        case KIND_NONE:
            out->detected = true;
            kind = KIND_UTF8;
            if (utf8_well_formed(body, len, &multibyte)) {
                known_well_formed = true;
            } else {
                trial = try_cp949(body, len, &converted, &cp949_bad, &clean, err, errlen);
                if (clean)
                    kind = KIND_CP949;
            }
            break;
        case KIND_UTF8:
            if (utf8_well_formed(body, len, &multibyte)) {
                known_well_formed = true;
            } else if (converts_cleanly("CP949", body, len)) {
                kind = KIND_CP949;
                out->label_ignored = true;
            }
            break;
        case KIND_CP949:
            trial = try_cp949(body, len, &converted, &cp949_bad, &clean, err, errlen);
            if (!clean && utf8_well_formed(body, len, &multibyte) && multibyte) {
                kind = KIND_UTF8;
                out->label_ignored = true;
            }
            break;
        case KIND_WINDOWS_1252:
        case KIND_OTHER:
            break;
        }
    }
    if (trial == CONV_ERROR || trial == CONV_NOMEM) {
        rc = trial;
        goto fail;
    }

    const char *iconv_name = NULL;
    switch (kind) {
    case KIND_UTF8:
    case KIND_NONE:
        snprintf(out->charset, sizeof(out->charset), "utf-8");
        break;
    case KIND_CP949:
        iconv_name = "CP949";
        snprintf(out->charset, sizeof(out->charset), "cp949");
        break;
    case KIND_WINDOWS_1252:
        iconv_name = "WINDOWS-1252";
        snprintf(out->charset, sizeof(out->charset), "windows-1252");
        break;
    case KIND_OTHER:
        iconv_name = name;
        snprintf(out->charset, sizeof(out->charset), "%s", name);
        break;
    }

    if (!iconv_name) {
        out_discard(&converted);
        /* The common case, a well-formed UTF-8 page without NUL, is copied in one piece. */
        if (known_well_formed && kind == KIND_UTF8 && !memchr(body, 0, len))
            rc = out_append(&text, body, len);
        else
            rc = append_sanitized(&text, body, len, &out->replaced);
    } else {
        if (kind == KIND_CP949 && trial != 1) {
            rc = trial; /* already converted, or known to be over the cap */
            out->replaced += cp949_bad;
        } else {
            rc = convert_iconv(iconv_name, body, len, &converted, &out->replaced, err, errlen);
        }
        /*
         * iconv writes valid UTF-8, but NUL passes through it and the contract excludes NUL.
         * Checking costs a pass; copying is only needed when there is something to replace.
         */
        if (rc == 0 && !memchr(converted.data, 0, converted.len) &&
            utf8_well_formed((const uint8_t *)converted.data, converted.len, &multibyte)) {
            text = converted;
            converted.data = NULL;
        } else if (rc == 0) {
            rc = append_sanitized(&text, (const uint8_t *)converted.data, converted.len,
                                  &out->replaced);
        }
    }
    if (rc == 0)
        rc = out_append(&text, "", 0); /* an empty text is still an allocated "" */
    if (rc != 0)
        goto fail;
    out_discard(&converted);
    out->text = text.data;
    out->len = text.len;
    return 0;

fail:
    if (rc == CONV_OVER_CAP)
        sd_set_error(err, errlen, "%zu bytes of %s convert to more than the %zu-byte cap", len,
                     out->charset[0] ? out->charset : "text", max_out);
    else if (rc == CONV_NOMEM)
        sd_set_error(err, errlen, "out of memory");
    out_discard(&converted);
    free(text.data);
    memset(out, 0, sizeof(*out));
    return -1;
}

/* Case-insensitive prefix test on text[0..len). */
static bool starts_with_ci(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(text, prefix, n) == 0;
}

/*
 * Finds "charset=value" in text[0..len) and copies the value: the WHATWG
 * algorithm for a meta content attribute, which also reads a Content-Type
 * header, with the name required to start a parameter (so "xcharset=" does
 * not count). The value may be quoted; unquoted it ends at a space or ';'.
 */
static bool charset_param(const char *text, size_t len, char *out, size_t outlen)
{
    for (size_t at = 0; at + 7 <= len; at++) {
        if (!starts_with_ci(text + at, len - at, "charset"))
            continue;
        if (at > 0 && text[at - 1] != ';' && !is_html_space(text[at - 1]))
            continue;
        size_t i = at + 7;
        while (i < len && is_html_space(text[i]))
            i++;
        if (i >= len || text[i] != '=')
            continue;
        i++;
        while (i < len && is_html_space(text[i]))
            i++;
        if (i >= len)
            return false;
        if (text[i] == '"' || text[i] == '\'') {
            const char *close = memchr(text + i + 1, text[i], len - i - 1);
            if (!close)
                return false;
            return clean_label(text + i + 1, (size_t)(close - (text + i + 1)), out, outlen);
        }
        size_t end = i;
        while (end < len && !is_html_space(text[end]) && text[end] != ';')
            end++;
        return clean_label(text + i, end - i, out, outlen);
    }
    return false;
}

/* One attribute of a tag, pointing into the scanned body. */
typedef struct html_attr {
    const char *name, *value;
    size_t name_len, value_len;
} html_attr;

/*
 * Reads the next attribute of a tag at s[*at..len). Returns false at the end
 * of the tag ('>', or the end of the scanned bytes), leaving *at after it.
 */
static bool next_attr(const char *s, size_t len, size_t *at, html_attr *attr)
{
    size_t i = *at;
    while (i < len && (is_html_space(s[i]) || s[i] == '/'))
        i++;
    if (i >= len || s[i] == '>') {
        *at = i + 1;
        return false;
    }
    attr->name = s + i;
    while (i < len && !is_html_space(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/')
        i++;
    attr->name_len = (size_t)(s + i - attr->name);
    attr->value = s + i;
    attr->value_len = 0;
    while (i < len && is_html_space(s[i]))
        i++;
    if (i < len && s[i] == '=') {
        i++;
        while (i < len && is_html_space(s[i]))
            i++;
        if (i < len && (s[i] == '"' || s[i] == '\'')) {
            char quote = s[i++];
            attr->value = s + i;
            while (i < len && s[i] != quote)
                i++;
            attr->value_len = (size_t)(s + i - attr->value);
            if (i < len)
                i++;
        } else {
            attr->value = s + i;
            while (i < len && !is_html_space(s[i]) && s[i] != '>')
                i++;
            attr->value_len = (size_t)(s + i - attr->value);
        }
    }
    *at = i;
    return true;
}

static bool attr_is(const html_attr *attr, const char *name)
{
    return attr->name_len == strlen(name) && strncasecmp(attr->name, name, attr->name_len) == 0;
}

/*
 * Scans the first bytes of an HTML body for a <meta> that declares the
 * charset, the way the HTML prescan does: comments are skipped, attributes
 * come in any order and any case, a charset attribute wins over http-equiv.
 */
static bool meta_charset(const char *s, size_t len, char *out, size_t outlen)
{
    size_t at = 0;
    while (at < len) {
        const char *lt = memchr(s + at, '<', len - at);
        if (!lt)
            return false;
        at = (size_t)(lt - s);
        if (starts_with_ci(s + at, len - at, "<!--")) {
            const char *end = NULL;
            for (size_t i = at + 4; i + 3 <= len; i++) {
                if (memcmp(s + i, "-->", 3) == 0) {
                    end = s + i;
                    break;
                }
            }
            if (!end)
                return false;
            at = (size_t)(end - s) + 3;
            continue;
        }
        if (!starts_with_ci(s + at, len - at, "<meta") || at + 5 >= len ||
            !(is_html_space(s[at + 5]) || s[at + 5] == '/')) {
            at++;
            continue;
        }
        at += 5;
        html_attr attr, charset = {0}, content = {0};
        bool pragma = false;
        while (next_attr(s, len, &at, &attr)) {
            if (attr_is(&attr, "charset") && !charset.name)
                charset = attr;
            else if (attr_is(&attr, "content") && !content.name)
                content = attr;
            else if (attr_is(&attr, "http-equiv"))
                pragma = attr.value_len == 12 && strncasecmp(attr.value, "content-type", 12) == 0;
        }
        if (charset.name && clean_label(charset.value, charset.value_len, out, outlen))
            return true;
        if (pragma && content.name && charset_param(content.value, content.value_len, out, outlen))
            return true;
    }
    return false;
}

bool cs_declared(const char *content_type, const uint8_t *body, size_t len, bool is_html, char *out,
                 size_t outlen)
{
    if (!out || outlen == 0)
        return false;
    out[0] = '\0';
    if (content_type && charset_param(content_type, strlen(content_type), out, outlen))
        return true;
    if (is_html && body)
        return meta_charset((const char *)body, len < META_SCAN_BYTES ? len : META_SCAN_BYTES, out,
                            outlen);
    return false;
}
