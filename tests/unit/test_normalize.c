/*
 * Unit tests of text normalization (src/core/normalize.c): display text,
 * match keys and HTML character references. Strings with invisible or
 * decomposed characters are written as escapes so that the test says what
 * it feeds in.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <utf8proc.h>

#include "core/normalize.h"

/* normalize.c's fast-path tables (not in normalize.h): checked here against utf8proc. */
bool nz__nfc_inert(int32_t c);
int nz__key_fast_class(int32_t c);

/* Checks nz_display(input) == expected, including the reported length. */
static void check_display(const char *input, unsigned flags, const char *expected)
{
    size_t len = 12345;
    char *got = nz_display(input, strlen(input), flags, &len);
    assert_non_null(got);
    assert_string_equal(got, expected);
    assert_int_equal(len, strlen(expected));
    free(got);
}

static void check_key(const char *input, const char *expected)
{
    size_t len = 12345;
    char *got = nz_match_key(input, strlen(input), &len);
    assert_non_null(got);
    assert_string_equal(got, expected);
    assert_int_equal(len, strlen(expected));
    free(got);
}

static void check_entities(const char *input, const char *expected)
{
    size_t len = 12345;
    char *got = nz_decode_entities(input, strlen(input), &len);
    assert_non_null(got);
    assert_string_equal(got, expected);
    assert_int_equal(len, strlen(expected));
    free(got);
}

/* --- Display text ---------------------------------------------------------- */

static void test_display_collapses_whitespace_and_trims(void **state)
{
    (void)state;
    check_display("  Kimi \t  K2  ", 0, "Kimi K2");
}

static void test_display_unicode_spaces_are_whitespace(void **state)
{
    (void)state;
    /* U+00A0, U+3000 (ideographic), U+2003 (em space), U+202F (narrow no-break). */
    check_display("a\xc2\xa0"
                  "b\xe3\x80\x80"
                  "c\xe2\x80\x83\xe2\x80\xaf"
                  "d",
                  0, "a b c d");
}

static void test_display_removes_zero_width_characters(void **state)
{
    (void)state;
    /* U+200B, U+200C, U+200D, U+2060, U+FEFF, U+00AD between the letters. */
    check_display("a\xe2\x80\x8b"
                  "b\xe2\x80\x8c"
                  "c\xe2\x80\x8d"
                  "d\xe2\x81\xa0"
                  "e\xef\xbb\xbf"
                  "f\xc2\xad"
                  "g",
                  0, "abcdefg");
}

static void test_display_removes_control_and_format_characters(void **state)
{
    (void)state;
    /* U+0001 and U+007F are Cc; U+200E LRM and U+202E RLO are Cf. */
    check_display("a\x01"
                  "b\x7f"
                  "c\xe2\x80\x8e"
                  "d\xe2\x80\xae"
                  "e",
                  0, "abcde");
}

static void test_display_zero_width_does_not_join_words_across_spaces(void **state)
{
    (void)state;
    check_display("a \xe2\x80\x8b b", 0, "a b");
}

static void test_display_line_breaks_are_spaces_by_default(void **state)
{
    (void)state;
    check_display("one\ntwo\r\nthree\rfour", 0, "one two three four");
}

static void test_display_keep_newlines_collapses_runs(void **state)
{
    (void)state;
    check_display("\n first  \n\n \r\n  second \n\n", NZ_KEEP_NEWLINES, "first\nsecond");
}

static void test_display_keep_newlines_keeps_spaces_within_lines(void **state)
{
    (void)state;
    check_display("a  b\nc\t d", NZ_KEEP_NEWLINES, "a b\nc d");
}

static void test_display_composes_to_nfc(void **state)
{
    (void)state;
    /* "e" + COMBINING ACUTE ACCENT becomes U+00E9. */
    check_display("caf"
                  "e\xcc\x81",
                  0, "caf\xc3\xa9");
}

static void test_display_composes_nfd_hangul(void **state)
{
    (void)state;
    /* 한국 as conjoining jamo: U+1112 U+1161 U+11AB U+1100 U+116E U+11A8. */
    check_display("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xe1\x84\x80\xe1\x85\xae\xe1\x86\xa8", 0,
                  "한국");
}

static void test_display_composes_across_removed_zero_width(void **state)
{
    (void)state;
    /* A zero-width space between a letter and its accent must not keep them apart. */
    check_display("e\xe2\x80\x8b\xcc\x81", 0, "\xc3\xa9");
}

static void test_display_keeps_fullwidth_ascii(void **state)
{
    (void)state;
    check_display("ＡＢＣ１２３", 0, "ＡＢＣ１２３");
}

static void test_display_keeps_hangul_and_punctuation(void **state)
{
    (void)state;
    check_display("“동포투데이” 연변 축구…", 0, "“동포투데이” 연변 축구…");
}

static void test_display_decodes_entities_when_asked(void **state)
{
    (void)state;
    check_display("Tom &amp; Jerry&nbsp;&nbsp;&#39;s &#x27;x&#x27; &hellip;", NZ_DECODE_ENTITIES,
                  "Tom & Jerry 's 'x' …");
}

static void test_display_leaves_entities_without_flag(void **state)
{
    (void)state;
    check_display("Tom &amp; Jerry", 0, "Tom &amp; Jerry");
}

static void test_display_decoded_zero_width_is_removed(void **state)
{
    (void)state;
    check_display("a&#8203;b&shy;c&zwj;d", NZ_DECODE_ENTITIES, "abcd");
}

static void test_display_invalid_utf8_becomes_replacement(void **state)
{
    (void)state;
    check_display("a\xff"
                  "b",
                  0,
                  "a\xef\xbf\xbd"
                  "b");
}

static void test_display_nul_byte_is_removed(void **state)
{
    (void)state;
    size_t len;
    char *got = nz_display("a\0b", 3, 0, &len);
    assert_non_null(got);
    assert_string_equal(got, "ab");
    assert_int_equal(len, 2);
    free(got);
}

static void test_display_of_only_invisible_text_is_empty(void **state)
{
    (void)state;
    check_display(" \t\xe2\x80\x8b\xc2\xa0\n ", NZ_KEEP_NEWLINES, "");
}

static void test_display_empty_input_gives_empty_string(void **state)
{
    (void)state;
    size_t len = 7;
    char *got = nz_display(NULL, 0, 0, &len);
    assert_non_null(got);
    assert_string_equal(got, "");
    assert_int_equal(len, 0);
    free(got);
}

static void test_display_reads_only_len_bytes(void **state)
{
    (void)state;
    char *got = nz_display("abc def", 3, 0, NULL);
    assert_non_null(got);
    assert_string_equal(got, "abc");
    free(got);
}

/* --- Match keys ------------------------------------------------------------ */

static void test_key_quote_and_ellipsis_styles_compare_equal(void **state)
{
    (void)state;
    check_key("“Kimi K2”…", "kimik2");
    check_key("\"kimi k2\"...", "kimik2");
}

static void test_key_every_quote_style_is_dropped(void **state)
{
    (void)state;
    static const char *const quotes[] = {"‘", "’",  "‚",  "‛",  "“",  "”",  "„",  "‟", "«",
                                         "»", "「", "」", "『", "』", "〈", "〉", "'", "\""};
    for (size_t i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
        char text[32];
        snprintf(text, sizeof(text), "%s속보%s", quotes[i], quotes[i]);
        check_key(text, "속보");
    }
}

static void test_key_dash_styles_are_dropped(void **state)
{
    (void)state;
    /* hyphen-minus, U+2010, U+2013, U+2014, U+2015, U+2212 (a math symbol), U+FF0D. */
    check_key("a-b‐c–d—e―f−g－h", "abcdefgh");
}

static void test_key_folds_case(void **state)
{
    (void)state;
    check_key("Straße ΣΊΣΥΦΟΣ", "strasseσίσυφοσ");
}

static void test_key_folds_fullwidth_ascii(void **state)
{
    (void)state;
    check_key("ＡＢＣ１２３", "abc123");
}

static void test_key_keeps_hangul(void **state)
{
    (void)state;
    check_key("[동포투데이] 연변 축구, 2:1 승리!", "동포투데이연변축구21승리");
}

static void test_key_composes_nfd_hangul(void **state)
{
    (void)state;
    check_key("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab \xe1\x84\x80\xe1\x85\xae\xe1\x86\xa8", "한국");
}

static void test_key_composes_jamo_around_removed_characters(void **state)
{
    (void)state;
    /* U+1112 ZWSP U+1161 U+11AB: the jamo of 한 kept apart by a zero-width space. */
    check_key("\xe1\x84\x92\xe2\x80\x8b\xe1\x85\xa1\xe1\x86\xab", "한");
}

static void test_key_of_a_key_is_itself(void **state)
{
    (void)state;
    const char *texts[] = {"“Kimi K2”…", "[동포투데이] 연변 축구", "ＡＢＣ Straße ①",
                           "\xe1\x84\x92 \xe1\x85\xa1\xe1\x86\xab"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        size_t len;
        char *key = nz_match_key(texts[i], strlen(texts[i]), &len);
        assert_non_null(key);
        check_key(key, key);
        free(key);
    }
}

static void test_key_applies_compatibility_forms(void **state)
{
    (void)state;
    /* CIRCLED DIGIT ONE, LATIN SMALL LIGATURE FI, SQUARE KM (U+339E). */
    check_key("① ﬁle ㎞", "1filekm");
}

static void test_key_drops_symbols_and_emoji(void **state)
{
    (void)state;
    check_key("a★b©c😀d₩e", "abcde");
}

static void test_key_drops_spaces_controls_and_zero_width(void **state)
{
    (void)state;
    check_key(" a\xc2\xa0"
              "b\xe3\x80\x80"
              "c\t\x01"
              "d\xe2\x80\x8b"
              "e\n",
              "abcde");
}

static void test_key_keeps_combining_marks(void **state)
{
    (void)state;
    check_key("Cafe\xcc\x81", "caf\xc3\xa9");
}

static void test_key_invalid_utf8_is_dropped(void **state)
{
    (void)state;
    check_key("a\xff\xfe"
              "b",
              "ab");
}

static void test_key_of_punctuation_only_is_empty(void **state)
{
    (void)state;
    check_key("…!? — “”", "");
}

static void test_key_empty_input_gives_empty_string(void **state)
{
    (void)state;
    char *got = nz_match_key(NULL, 0, NULL);
    assert_non_null(got);
    assert_string_equal(got, "");
    free(got);
}

/* --- Character references -------------------------------------------------- */

static void test_entities_numeric_decimal_and_hex(void **state)
{
    (void)state;
    check_entities("&#39;&#x27;&#X27;&#54620;&#xD55C;", "'''한한");
}

static void test_entities_named_ones_real_pages_use(void **state)
{
    (void)state;
    check_entities("&amp;&lt;&gt;&quot;&apos;&nbsp;&middot;&hellip;&lsquo;&rsquo;&ldquo;&rdquo;"
                   "&ndash;&mdash;&bull;&copy;&reg;&trade;&laquo;&raquo;&times;",
                   "&<>\"'\xc2\xa0·…‘’“”–—•©®™«»×");
}

static void test_entities_unknown_name_stays(void **state)
{
    (void)state;
    check_entities("&bogus; &ampx; AT&T", "&bogus; &ampx; AT&T");
}

static void test_entities_named_without_semicolon_stays(void **state)
{
    (void)state;
    check_entities("view.php?a=1&copy=2&amp", "view.php?a=1&copy=2&amp");
}

static void test_entities_malformed_numeric_stays(void **state)
{
    (void)state;
    check_entities("&#; &#x; &# &#xg;", "&#; &#x; &# &#xg;");
}

static void test_entities_numeric_without_semicolon_decodes(void **state)
{
    (void)state;
    check_entities("&#39s", "'s");
}

static void test_entities_nul_surrogate_and_out_of_range_become_replacement(void **state)
{
    (void)state;
    check_entities("&#0;&#xD800;&#x110000;&#99999999999999999999;",
                   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_entities_c1_range_reads_as_windows_1252(void **state)
{
    (void)state;
    /* &#150; and &#147;/&#148; as Windows pages meant them; &#129; is undefined there. */
    check_entities("&#150;&#147;x&#148;&#129;", "–“x”\xc2\x81");
}

static void test_entities_decode_once(void **state)
{
    (void)state;
    check_entities("&amp;lt;", "&lt;");
}

static void test_entities_trailing_ampersand(void **state)
{
    (void)state;
    check_entities("a&", "a&");
}

/* True when NFC (with opts) leaves "base + c" as it is, for bases that compose with marks. */
static bool composes_with_nothing(int32_t c, utf8proc_option_t opts)
{
    static const int32_t bases[] = {'a', 'e', 'o', 'A', 0xAC00, 0x304B, 0x30B9};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        utf8proc_uint8_t in[16], *out = NULL;
        utf8proc_ssize_t n = utf8proc_encode_char(bases[i], in);
        n += utf8proc_encode_char(c, in + n);
        in[n] = 0;
        utf8proc_ssize_t m = utf8proc_map(in, n, &out, opts);
        utf8proc_uint8_t alone[16], *mapped_base = NULL, *mapped_c = NULL;
        utf8proc_ssize_t nb = utf8proc_encode_char(bases[i], alone);
        alone[nb] = 0;
        utf8proc_ssize_t mb = utf8proc_map(alone, nb, &mapped_base, opts);
        utf8proc_ssize_t nc = utf8proc_encode_char(c, alone);
        alone[nc] = 0;
        utf8proc_ssize_t mc = utf8proc_map(alone, nc, &mapped_c, opts);
        /* The pair maps to the base's mapping followed by c's: nothing composed. */
        bool same = m == mb + mc && memcmp(out, mapped_base, (size_t)mb) == 0 &&
                    memcmp(out + mb, mapped_c, (size_t)mc) == 0;
        free(out);
        free(mapped_base);
        free(mapped_c);
        if (!same)
            return false;
    }
    return true;
}

/* Every code point the display fast path leaves alone is NFC-stable, combining class 0. */
static void test_fast_path_nfc_inert_code_points_are_stable(void **state)
{
    (void)state;
    for (int32_t c = 1; c < 0x10000; c++) {
        if (!nz__nfc_inert(c) || (c >= 0xD800 && c <= 0xDFFF))
            continue;
        utf8proc_uint8_t in[8], *out = NULL;
        utf8proc_ssize_t n = utf8proc_encode_char(c, in);
        in[n] = 0;
        utf8proc_ssize_t m = utf8proc_map(in, n, &out, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m != n || memcmp(in, out, (size_t)n) != 0 ||
            utf8proc_get_property(c)->combining_class != 0 ||
            !composes_with_nothing(c, UTF8PROC_STABLE | UTF8PROC_COMPOSE))
            fail_msg("U+%04X is not NFC-inert", (unsigned)c);
        free(out);
    }
}

/* The key fast path keeps only code points NFKC and case folding keep, drops only noise. */
static void test_fast_path_key_classes_match_utf8proc(void **state)
{
    (void)state;
    const utf8proc_option_t nfkc_casefold =
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
    for (int32_t c = 0x80; c < 0x10000; c++) {
        int kind = nz__key_fast_class(c);
        if (kind == 0)
            continue;
        utf8proc_uint8_t in[8], *out = NULL;
        utf8proc_ssize_t n = utf8proc_encode_char(c, in);
        in[n] = 0;
        utf8proc_ssize_t m = utf8proc_map(in, n, &out, nfkc_casefold);
        assert_true(m >= 0);
        if (kind == 1) {
            if (m != n || memcmp(in, out, (size_t)n) != 0 ||
                !composes_with_nothing(c, nfkc_casefold))
                fail_msg("U+%04X is not kept as it is", (unsigned)c);
        } else if (kind == 2) {
            /* Lower-cased: the code point 0x20 above, two UTF-8 bytes as the upper case. */
            utf8proc_uint8_t lower[8];
            utf8proc_ssize_t nl = utf8proc_encode_char(c + 0x20, lower);
            if (c < 0xC0 || c > 0xDE || nl != n || m != nl || memcmp(out, lower, (size_t)nl) != 0 ||
                !composes_with_nothing(c, nfkc_casefold))
                fail_msg("U+%04X is not lower-cased to U+%04X", (unsigned)c, (unsigned)(c + 0x20));
        } else {
            /* Every code point of its NFKC must be punctuation, a symbol, a space or other. */
            for (utf8proc_ssize_t at = 0; at < m;) {
                utf8proc_int32_t d;
                at += utf8proc_iterate(out + at, m - at, &d);
                utf8proc_category_t cat = utf8proc_category(d);
                if (cat < UTF8PROC_CATEGORY_PC && cat != UTF8PROC_CATEGORY_CN)
                    fail_msg("U+%04X maps to U+%04X, which a key keeps", (unsigned)c, (unsigned)d);
            }
        }
        free(out);
    }
}

/* The fast paths give what utf8proc gives: ASCII, Hangul, CJK and punctuation mixed. */
static void test_fast_path_matches_slow_path(void **state)
{
    (void)state;
    check_display("  Hello,\t \xe2\x80\x9cWorld\xe2\x80\x9d \xed\x95\x9c\xea\xb5\xad\xe8\xaa\x9e  ",
                  0, "Hello, \xe2\x80\x9cWorld\xe2\x80\x9d \xed\x95\x9c\xea\xb5\xad\xe8\xaa\x9e");
    check_key(
        "Hello, \xe2\x80\x9cWorld\xe2\x80\x9d\xe2\x80\xa6 \xed\x95\x9c\xea\xb5\xad \xe8\xaa\x9e "
        "\xc2\xa0\xc2\xb7 A-1",
        "helloworld\xed\x95\x9c\xea\xb5\xad\xe8\xaa\x9e"
        "a1");
    /* Latin-1 letters (upper case folded) and kana, next to ASCII, Hangul and punctuation. */
    check_key("\xc3\x80\xc3\x89t\xc3\xa9 \xc3\x9e\xc3\xbf, "
              "\xe3\x81\x8b\xe3\x82\xab\xe3\x83\xbc\xe3\x83\xba \xed\x95\x9c",
              "\xc3\xa0\xc3\xa9t\xc3\xa9\xc3\xbe\xc3\xbf"
              "\xe3\x81\x8b\xe3\x82\xab\xe3\x83\xbc\xe3\x83\xba\xed\x95\x9c");
    /* Not in the fast sets: sharp s folds to "ss", the times sign is a symbol, a mark composes. */
    check_key("Stra\xc3\x9f"
              "e 2\xc3\x97"
              "3",
              "strasse23");
    check_key("e\xcc\x81t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
    check_key("\xe3\x81\x8b\xe3\x82\x99", "\xe3\x81\x8c");
    /* Every fast-path code point, alone and after an ASCII letter, keys as utf8proc keys it. */
    for (int32_t c = 0x80; c < 0x10000; c++) {
        if (nz__key_fast_class(c) == 0)
            continue;
        utf8proc_uint8_t in[16], *slow = NULL;
        utf8proc_ssize_t n = utf8proc_encode_char('x', in);
        n += utf8proc_encode_char(c, in + n);
        in[n] = 0;
        utf8proc_ssize_t m = utf8proc_map(
            in, n, &slow, UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
        assert_true(m > 0);
        /* The noise utf8proc leaves in (the fast class -1) is what the key drops. */
        if (nz__key_fast_class(c) < 0)
            m = 1;
        size_t len = 0;
        char *fast = nz_match_key((const char *)in, (size_t)n, &len);
        assert_non_null(fast);
        if (len != (size_t)m || memcmp(fast, slow, (size_t)m) != 0)
            fail_msg("U+%04X: the fast key differs from utf8proc's", (unsigned)c);
        free(fast);
        free(slow);
    }
    /* One code point outside the fast sets sends the text to utf8proc: fullwidth A folds. */
    check_key("\xef\xbc\xa1"
              "BC \xed\x95\x9c",
              "abc\xed\x95\x9c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_display_collapses_whitespace_and_trims),
        cmocka_unit_test(test_display_unicode_spaces_are_whitespace),
        cmocka_unit_test(test_display_removes_zero_width_characters),
        cmocka_unit_test(test_display_removes_control_and_format_characters),
        cmocka_unit_test(test_display_zero_width_does_not_join_words_across_spaces),
        cmocka_unit_test(test_display_line_breaks_are_spaces_by_default),
        cmocka_unit_test(test_display_keep_newlines_collapses_runs),
        cmocka_unit_test(test_display_keep_newlines_keeps_spaces_within_lines),
        cmocka_unit_test(test_display_composes_to_nfc),
        cmocka_unit_test(test_display_composes_nfd_hangul),
        cmocka_unit_test(test_display_composes_across_removed_zero_width),
        cmocka_unit_test(test_display_keeps_fullwidth_ascii),
        cmocka_unit_test(test_display_keeps_hangul_and_punctuation),
        cmocka_unit_test(test_display_decodes_entities_when_asked),
        cmocka_unit_test(test_display_leaves_entities_without_flag),
        cmocka_unit_test(test_display_decoded_zero_width_is_removed),
        cmocka_unit_test(test_display_invalid_utf8_becomes_replacement),
        cmocka_unit_test(test_display_nul_byte_is_removed),
        cmocka_unit_test(test_display_of_only_invisible_text_is_empty),
        cmocka_unit_test(test_display_empty_input_gives_empty_string),
        cmocka_unit_test(test_display_reads_only_len_bytes),
        cmocka_unit_test(test_key_quote_and_ellipsis_styles_compare_equal),
        cmocka_unit_test(test_key_every_quote_style_is_dropped),
        cmocka_unit_test(test_key_dash_styles_are_dropped),
        cmocka_unit_test(test_key_folds_case),
        cmocka_unit_test(test_key_folds_fullwidth_ascii),
        cmocka_unit_test(test_key_keeps_hangul),
        cmocka_unit_test(test_key_composes_nfd_hangul),
        cmocka_unit_test(test_key_composes_jamo_around_removed_characters),
        cmocka_unit_test(test_key_of_a_key_is_itself),
        cmocka_unit_test(test_key_applies_compatibility_forms),
        cmocka_unit_test(test_key_drops_symbols_and_emoji),
        cmocka_unit_test(test_key_drops_spaces_controls_and_zero_width),
        cmocka_unit_test(test_key_keeps_combining_marks),
        cmocka_unit_test(test_key_invalid_utf8_is_dropped),
        cmocka_unit_test(test_key_of_punctuation_only_is_empty),
        cmocka_unit_test(test_key_empty_input_gives_empty_string),
        cmocka_unit_test(test_entities_numeric_decimal_and_hex),
        cmocka_unit_test(test_entities_named_ones_real_pages_use),
        cmocka_unit_test(test_entities_unknown_name_stays),
        cmocka_unit_test(test_entities_named_without_semicolon_stays),
        cmocka_unit_test(test_entities_malformed_numeric_stays),
        cmocka_unit_test(test_entities_numeric_without_semicolon_decodes),
        cmocka_unit_test(test_entities_nul_surrogate_and_out_of_range_become_replacement),
        cmocka_unit_test(test_entities_c1_range_reads_as_windows_1252),
        cmocka_unit_test(test_entities_decode_once),
        cmocka_unit_test(test_entities_trailing_ampersand),
        cmocka_unit_test(test_fast_path_nfc_inert_code_points_are_stable),
        cmocka_unit_test(test_fast_path_key_classes_match_utf8proc),
        cmocka_unit_test(test_fast_path_matches_slow_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
