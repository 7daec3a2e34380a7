/*
 * Unit tests of charset detection and conversion (src/core/charset.c).
 * EUC-KR and CP949 bytes are made here from known UTF-8 text with iconv, so
 * the tests state the text and not opaque byte strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iconv.h>

#include "core/charset.h"
#include "core/utf8.h"

static const char korean[] = "동포투데이 연변 축구";

/* Returns text converted from UTF-8 to charset, with its length in *len; free() it. */
static uint8_t *encode(const char *text, const char *charset, size_t *len)
{
    iconv_t cd = iconv_open(charset, "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t in_left = strlen(text), out_size = in_left * 2 + 16, out_left = out_size;
    uint8_t *bytes = malloc(out_size);
    assert_non_null(bytes);
    char *in = (char *)text, *out = (char *)bytes;
    assert_true(iconv(cd, &in, &in_left, &out, &out_left) != (size_t)-1);
    iconv_close(cd);
    *len = out_size - out_left;
    return bytes;
}

/* Converts and checks success; the caller checks the rest and frees result->text. */
static void convert_ok(const void *body, size_t len, const char *label, size_t max_out,
                       cs_result *result)
{
    char err[128] = "";
    int rc = cs_to_utf8(body, len, label, max_out, result, err, sizeof(err));
    if (rc != 0)
        fail_msg("cs_to_utf8 failed: %s", err);
    assert_non_null(result->text);
    assert_int_equal(strlen(result->text), result->len);
}

/* --- Conversion -------------------------------------------------------------- */

/* Found by fuzz_charset (tests/fuzz/corpus/charset/regression-cp949-cut-at-end): glibc's CP949
 * decoder reports the cut sequence at the end only after all input is read. */
static void test_cp949_cut_at_the_end_is_replaced(void **state)
{
    (void)state;
    static const unsigned char body[] = {0xf1, 0xb8, 0xa2, 0xe8};
    cs_result result;
    convert_ok(body, sizeof(body), "x-bogus", 0, &result);
    size_t bad;
    assert_true(sd_utf8_valid(result.text, result.len, &bad));
    assert_true(result.replaced >= 1);
    assert_non_null(strstr(result.text, "\xef\xbf\xbd"));
    free(result.text);
    convert_ok(body, sizeof(body), "cp949", 0, &result);
    assert_true(sd_utf8_valid(result.text, result.len, &bad));
    free(result.text);
}

static void test_euc_kr_round_trip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    cs_result result;
    convert_ok(bytes, len, "euc-kr", 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "cp949");
    assert_int_equal(result.replaced, 0);
    assert_false(result.label_ignored);
    assert_false(result.detected);
    free(result.text);
    free(bytes);
}

static void test_euc_kr_label_reads_cp949_extensions(void **state)
{
    (void)state;
    /* 똠 and 햏 are not in EUC-KR (KS X 1001) but CP949 has them; pages labelled euc-kr use them.
     */
    size_t len;
    uint8_t *bytes = encode("똠방각하 햏", "CP949", &len);
    cs_result result;
    convert_ok(bytes, len, "EUC-KR", 0, &result);
    assert_string_equal(result.text, "똠방각하 햏");
    assert_int_equal(result.replaced, 0);
    free(result.text);
    free(bytes);
}

static void test_cp949_label_aliases(void **state)
{
    (void)state;
    static const char *const labels[] = {"ks_c_5601-1987", "\"KSC5601\"", " x-windows-949 ",
                                         "windows-949",    "UHC",         "cp949",
                                         "euckr",          "'euc-kr'"};
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        cs_result result;
        convert_ok(bytes, len, labels[i], 0, &result);
        assert_string_equal(result.text, korean);
        assert_string_equal(result.charset, "cp949");
        assert_false(result.detected);
        free(result.text);
    }
    free(bytes);
}

static void test_unlabelled_euc_kr_is_detected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    cs_result result;
    convert_ok(bytes, len, NULL, 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "cp949");
    assert_true(result.detected);
    assert_int_equal(result.replaced, 0);
    free(result.text);
    free(bytes);
}

static void test_unlabelled_utf8_stays_utf8(void **state)
{
    (void)state;
    cs_result result;
    convert_ok(korean, strlen(korean), NULL, 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "utf-8");
    assert_true(result.detected);
    assert_int_equal(result.replaced, 0);
    free(result.text);
}

static void test_unknown_label_is_treated_as_none(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    cs_result result;
    convert_ok(bytes, len, "x-no-such-charset", 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "cp949");
    assert_true(result.detected);
    assert_false(result.label_ignored);
    free(result.text);
    free(bytes);
}

static void test_label_with_iconv_suffix_is_not_passed_to_iconv(void **state)
{
    (void)state;
    /* "//IGNORE" would make iconv drop bytes silently; such a label is no label. */
    cs_result result;
    convert_ok("a\xff"
               "b",
               3, "utf-8//IGNORE", 0, &result);
    assert_string_equal(result.text, "a\xef\xbf\xbd"
                                     "b");
    assert_int_equal(result.replaced, 1);
    assert_true(result.detected);
    free(result.text);
}

static void test_euc_kr_label_contradicted_by_utf8_bytes(void **state)
{
    (void)state;
    cs_result result;
    convert_ok(korean, strlen(korean), "euc-kr", 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "utf-8");
    assert_true(result.label_ignored);
    assert_int_equal(result.replaced, 0);
    free(result.text);
}

static void test_utf8_label_contradicted_by_euc_kr_bytes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    cs_result result;
    convert_ok(bytes, len, "utf-8", 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "cp949");
    assert_true(result.label_ignored);
    assert_false(result.detected);
    free(result.text);
    free(bytes);
}

static void test_utf8_label_kept_when_bytes_are_no_cp949_either(void **state)
{
    (void)state;
    /* 0xFF starts no CP949 character, so the label stands and the byte is replaced. */
    cs_result result;
    convert_ok("caf\xc3\xa9 \xff", 7, "utf-8", 0, &result);
    assert_string_equal(result.text, "caf\xc3\xa9 \xef\xbf\xbd");
    assert_string_equal(result.charset, "utf-8");
    assert_false(result.label_ignored);
    assert_int_equal(result.replaced, 1);
    free(result.text);
}

static void test_invalid_cp949_bytes_are_replaced_and_counted(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode("가나", "EUC-KR", &len);
    /* "가" 0xFF "나", then a lead byte cut off by the end of the body. */
    uint8_t body[16];
    memcpy(body, bytes, 2);
    body[2] = 0xFF;
    memcpy(body + 3, bytes + 2, 2);
    body[5] = bytes[0];
    cs_result result;
    convert_ok(body, 6, "euc-kr", 0, &result);
    assert_string_equal(result.text, "가\xef\xbf\xbd나\xef\xbf\xbd");
    assert_int_equal(result.replaced, 2);
    assert_string_equal(result.charset, "cp949");
    free(result.text);
    free(bytes);
}

static void test_invalid_utf8_replaced_per_maximal_subpart(void **state)
{
    (void)state;
    /*
     * E0 80: E0 needs A0..BF next, so E0 and 80 are two subparts. F0 9F 98 is a
     * truncated emoji: one subpart. ED A0 80 is a surrogate: three subparts.
     */
    const char body[] = "a\xe0\x80"
                        "b\xf0\x9f\x98"
                        "c\xed\xa0\x80"
                        "d";
    cs_result result;
    convert_ok(body, sizeof(body) - 1, "utf-8", 0, &result);
    assert_string_equal(result.text, "a\xef\xbf\xbd\xef\xbf\xbd"
                                     "b\xef\xbf\xbd"
                                     "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                     "d");
    assert_int_equal(result.replaced, 6);
    free(result.text);
}

static void test_nul_bytes_are_replaced_and_counted(void **state)
{
    (void)state;
    cs_result result;
    convert_ok("a\0b\0", 4, "utf-8", 0, &result);
    assert_int_equal(result.len, 8);
    assert_memory_equal(result.text,
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd",
                        8);
    assert_int_equal(result.replaced, 2);
    free(result.text);
}

static void test_nul_in_euc_kr_does_not_spoil_detection(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode(korean, "EUC-KR", &len);
    uint8_t *body = malloc(len + 1);
    assert_non_null(body);
    memcpy(body, bytes, len);
    body[len] = 0;
    cs_result result;
    convert_ok(body, len + 1, NULL, 0, &result);
    assert_string_equal(result.charset, "cp949");
    assert_int_equal(result.replaced, 1);
    assert_int_equal(result.len, strlen(korean) + 3);
    assert_memory_equal(result.text, korean, strlen(korean));
    free(result.text);
    free(body);
    free(bytes);
}

static void test_latin1_labels_read_as_windows_1252(void **state)
{
    (void)state;
    cs_result result;
    convert_ok("\x93"
               "caf\xe9\x94",
               6, "ISO-8859-1", 0, &result);
    assert_string_equal(result.text, "“café”");
    assert_string_equal(result.charset, "windows-1252");
    free(result.text);
    convert_ok("plain", 5, "us-ascii", 0, &result);
    assert_string_equal(result.charset, "windows-1252");
    assert_string_equal(result.text, "plain");
    free(result.text);
}

static void test_other_iconv_label_is_used(void **state)
{
    (void)state;
    /* "Привет" in KOI8-R. */
    cs_result result;
    convert_ok("\xf0\xd2\xc9\xd7\xc5\xd4", 6, "KOI8-R", 0, &result);
    assert_string_equal(result.text, "Привет");
    assert_string_equal(result.charset, "koi8-r");
    assert_false(result.detected);
    free(result.text);
}

static void test_utf8_bom_outranks_label_and_is_removed(void **state)
{
    (void)state;
    char body[64];
    snprintf(body, sizeof(body), "\xef\xbb\xbf%s", korean);
    cs_result result;
    convert_ok(body, strlen(body), "euc-kr", 0, &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "utf-8");
    assert_true(result.label_ignored);
    free(result.text);
}

static void test_empty_body_gives_empty_text(void **state)
{
    (void)state;
    cs_result result;
    convert_ok(NULL, 0, "euc-kr", 0, &result);
    assert_string_equal(result.text, "");
    assert_int_equal(result.len, 0);
    free(result.text);
}

static void test_missing_body_is_an_error(void **state)
{
    (void)state;
    cs_result result;
    char err[64] = "";
    assert_int_equal(cs_to_utf8(NULL, 5, NULL, 0, &result, err, sizeof(err)), -1);
    assert_null(result.text);
    assert_true(strlen(err) > 0);
}

static void test_max_out_allows_exactly_the_cap(void **state)
{
    (void)state;
    /* Ten Hangul syllables: 20 bytes of EUC-KR, 30 of UTF-8. */
    size_t len;
    uint8_t *bytes = encode("가나다라마바사아자차", "EUC-KR", &len);
    assert_int_equal(len, 20);
    cs_result result;
    convert_ok(bytes, len, "euc-kr", 30, &result);
    assert_int_equal(result.len, 30);
    free(result.text);
    free(bytes);
}

static void test_max_out_refuses_longer_text(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode("가나다라마바사아자차", "EUC-KR", &len);
    cs_result result;
    char err[128] = "";
    assert_int_equal(cs_to_utf8(bytes, len, "euc-kr", 29, &result, err, sizeof(err)), -1);
    assert_null(result.text);
    assert_non_null(strstr(err, "cap"));
    /* The same cap over UTF-8 input, where replacements make the text grow. */
    assert_int_equal(cs_to_utf8((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10,
                                "utf-8", 29, &result, err, sizeof(err)),
                     -1);
    assert_null(result.text);
    free(bytes);
}

static void test_max_out_refuses_unlabelled_euc_kr_over_the_cap(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = encode("가나다라마바사아자차", "EUC-KR", &len);
    cs_result result;
    char err[128] = "";
    assert_int_equal(cs_to_utf8(bytes, len, NULL, 29, &result, err, sizeof(err)), -1);
    assert_null(result.text);
    assert_non_null(strstr(err, "cp949"));
    free(bytes);
}

static void test_max_out_does_not_hide_a_contradicted_label(void **state)
{
    (void)state;
    /* Read as CP949 these UTF-8 bytes would pass the cap; read as UTF-8 they fit it exactly. */
    cs_result result;
    convert_ok(korean, strlen(korean), "euc-kr", strlen(korean), &result);
    assert_string_equal(result.text, korean);
    assert_string_equal(result.charset, "utf-8");
    assert_true(result.label_ignored);
    free(result.text);
}

static void test_max_out_stops_a_large_body_early(void **state)
{
    (void)state;
    size_t len = 8 << 20;
    uint8_t *body = malloc(len);
    assert_non_null(body);
    memset(body, 'a', len);
    cs_result result;
    char err[128];
    assert_int_equal(cs_to_utf8(body, len, "windows-1252", 4096, &result, err, sizeof(err)), -1);
    assert_null(result.text);
    free(body);
}

/* --- Declared charset ------------------------------------------------------------ */

static void check_declared(const char *content_type, const char *body, bool is_html,
                           const char *expected)
{
    char label[32] = "untouched";
    bool found = cs_declared(content_type, (const uint8_t *)body, body ? strlen(body) : 0, is_html,
                             label, sizeof(label));
    if (!expected) {
        assert_false(found);
        return;
    }
    assert_true(found);
    assert_string_equal(label, expected);
}

static void test_declared_in_content_type(void **state)
{
    (void)state;
    check_declared("text/html; charset=EUC-KR", NULL, true, "euc-kr");
    check_declared("text/html;charset=\"UTF-8\"; foo=bar", NULL, true, "utf-8");
    check_declared("text/html; CharSet = 'ks_c_5601-1987' ", NULL, false, "ks_c_5601-1987");
}

static void test_content_type_without_charset_declares_nothing(void **state)
{
    (void)state;
    check_declared("text/html", NULL, false, NULL);
    check_declared("text/html; xcharset=utf-8", NULL, false, NULL);
    check_declared("text/html; charset=", NULL, false, NULL);
    check_declared(NULL, NULL, false, NULL);
}

static void test_content_type_wins_over_meta(void **state)
{
    (void)state;
    check_declared("text/html; charset=utf-8", "<meta charset=euc-kr>", true, "utf-8");
}

static void test_meta_charset(void **state)
{
    (void)state;
    check_declared("text/html", "<html><head><META CharSet=\"EUC-KR\"/>", true, "euc-kr");
    check_declared(NULL, "<meta charset=utf-8>", true, "utf-8");
}

static void test_meta_http_equiv_in_any_order(void **state)
{
    (void)state;
    check_declared(NULL, "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-kr\">",
                   true, "euc-kr");
    check_declared(NULL,
                   "<META CONTENT='text/html; charset=ks_c_5601-1987' HTTP-EQUIV='content-type'>",
                   true, "ks_c_5601-1987");
}

static void test_meta_content_without_http_equiv_is_ignored(void **state)
{
    (void)state;
    check_declared(NULL, "<meta name=x content=\"text/html; charset=euc-kr\">", true, NULL);
}

static void test_meta_in_comment_is_ignored(void **state)
{
    (void)state;
    check_declared(NULL, "<!-- <meta charset=euc-kr> --><meta charset=utf-8>", true, "utf-8");
}

static void test_meta_not_scanned_unless_html(void **state)
{
    (void)state;
    check_declared(NULL, "<meta charset=euc-kr>", false, NULL);
}

/* Builds padding + meta: the meta tag starts at byte `at`. */
static char *body_with_meta_at(size_t at)
{
    static const char meta[] = "<meta charset=\"euc-kr\">";
    char *body = malloc(at + sizeof(meta));
    assert_non_null(body);
    memset(body, ' ', at);
    memcpy(body, "<html>", 6);
    memcpy(body + at, meta, sizeof(meta));
    return body;
}

static void test_meta_scan_covers_the_first_4_kib(void **state)
{
    (void)state;
    size_t meta_len = strlen("<meta charset=\"euc-kr\">");
    char *body = body_with_meta_at(4096 - meta_len);
    check_declared(NULL, body, true, "euc-kr");
    free(body);
}

static void test_meta_scan_stops_after_4_kib(void **state)
{
    (void)state;
    char *body = body_with_meta_at(4097);
    check_declared(NULL, body, true, NULL);
    free(body);
}

static void test_declared_label_that_does_not_fit_is_refused(void **state)
{
    (void)state;
    char label[4];
    assert_false(cs_declared("text/html; charset=euc-kr", NULL, 0, false, label, sizeof(label)));
    assert_true(cs_declared("text/html; charset=cp9", NULL, 0, false, label, sizeof(label)));
    assert_string_equal(label, "cp9");
}

static void test_declared_label_with_control_or_non_ascii_bytes_is_refused(void **state)
{
    (void)state;
    char label[32];
    const char body[] = "<meta charset=euc\x01kr><meta charset=\"utf\xe2\x80\x90"
                        "8\">";
    assert_false(
        cs_declared(NULL, (const uint8_t *)body, sizeof(body) - 1, true, label, sizeof(label)));
    const char with_nul[] = "<meta charset=\0\0x>";
    assert_false(cs_declared(NULL, (const uint8_t *)with_nul, sizeof(with_nul) - 1, true, label,
                             sizeof(label)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cp949_cut_at_the_end_is_replaced),
        cmocka_unit_test(test_euc_kr_round_trip),
        cmocka_unit_test(test_euc_kr_label_reads_cp949_extensions),
        cmocka_unit_test(test_cp949_label_aliases),
        cmocka_unit_test(test_unlabelled_euc_kr_is_detected),
        cmocka_unit_test(test_unlabelled_utf8_stays_utf8),
        cmocka_unit_test(test_unknown_label_is_treated_as_none),
        cmocka_unit_test(test_label_with_iconv_suffix_is_not_passed_to_iconv),
        cmocka_unit_test(test_euc_kr_label_contradicted_by_utf8_bytes),
        cmocka_unit_test(test_utf8_label_contradicted_by_euc_kr_bytes),
        cmocka_unit_test(test_utf8_label_kept_when_bytes_are_no_cp949_either),
        cmocka_unit_test(test_invalid_cp949_bytes_are_replaced_and_counted),
        cmocka_unit_test(test_invalid_utf8_replaced_per_maximal_subpart),
        cmocka_unit_test(test_nul_bytes_are_replaced_and_counted),
        cmocka_unit_test(test_nul_in_euc_kr_does_not_spoil_detection),
        cmocka_unit_test(test_latin1_labels_read_as_windows_1252),
        cmocka_unit_test(test_other_iconv_label_is_used),
        cmocka_unit_test(test_utf8_bom_outranks_label_and_is_removed),
        cmocka_unit_test(test_empty_body_gives_empty_text),
        cmocka_unit_test(test_missing_body_is_an_error),
        cmocka_unit_test(test_max_out_allows_exactly_the_cap),
        cmocka_unit_test(test_max_out_refuses_longer_text),
        cmocka_unit_test(test_max_out_refuses_unlabelled_euc_kr_over_the_cap),
        cmocka_unit_test(test_max_out_does_not_hide_a_contradicted_label),
        cmocka_unit_test(test_max_out_stops_a_large_body_early),
        cmocka_unit_test(test_declared_in_content_type),
        cmocka_unit_test(test_content_type_without_charset_declares_nothing),
        cmocka_unit_test(test_content_type_wins_over_meta),
        cmocka_unit_test(test_meta_charset),
        cmocka_unit_test(test_meta_http_equiv_in_any_order),
        cmocka_unit_test(test_meta_content_without_http_equiv_is_ignored),
        cmocka_unit_test(test_meta_in_comment_is_ignored),
        cmocka_unit_test(test_meta_not_scanned_unless_html),
        cmocka_unit_test(test_meta_scan_covers_the_first_4_kib),
        cmocka_unit_test(test_meta_scan_stops_after_4_kib),
        cmocka_unit_test(test_declared_label_that_does_not_fit_is_refused),
        cmocka_unit_test(test_declared_label_with_control_or_non_ascii_bytes_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
